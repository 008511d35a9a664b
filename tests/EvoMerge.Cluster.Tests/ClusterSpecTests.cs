using EvoMerge.Cluster.Membership;
using Npgsql;

namespace EvoMerge.Cluster.Tests;

public class ClusterSpecTests
{
    [Fact]
    public void A_postgres_spec_becomes_a_connection_string_and_is_shown_without_its_password()
    {
        var spec = ClusterSpec.Parse("postgres://evo:s%40cret@db.example:5433/membership", "gpu-farm");
        Assert.Equal(ClusterSpec.Backend.Postgres, spec.Kind);
        Assert.Equal("postgres://evo@db.example:5433/membership", spec.Describe());
        var cs = new NpgsqlConnectionStringBuilder(spec.Address);
        Assert.Equal(("db.example", 5433, "membership", "evo", "s@cret"), (cs.Host, cs.Port, cs.Database, cs.Username, cs.Password));
        Assert.Equal(5432, new NpgsqlConnectionStringBuilder(PostgresMembership.ConnectionString("postgresql://h/d")).Port);
    }

    [Theory]
    [InlineData("postgres://host")]          // no database
    [InlineData("postgres:///db")]           // no host
    [InlineData("mysql://host/db")]
    public void A_bad_spec_names_what_is_expected(string spec)
    {
        var e = Assert.Throws<EvoMergeException>(() => ClusterSpec.Parse(spec));
        Assert.Contains(spec, e.Message);
        Assert.Contains("postgres://", e.Message);
    }
}
