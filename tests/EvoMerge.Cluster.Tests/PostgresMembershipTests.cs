using EvoMerge.Cluster.Membership;
using Npgsql;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// EvoMerge's membership queries, run the way Orleans' ADO.NET provider runs them (by key from OrleansQuery, with
/// its parameter names), against the versioning rules worked out by hand: a write succeeds only with the version
/// last read, and bumps it.
/// </summary>
[Collection("cluster")]
public class PostgresMembershipTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    string Connection => PostgresMembership.ConnectionString(postgres.Url);

    object? Query(string key, params (string Name, object? Value)[] parameters)
    {
        using var connection = new NpgsqlConnection(Connection);
        connection.Open();
        string text;
        using (var lookup = new NpgsqlCommand("SELECT QueryText FROM OrleansQuery WHERE QueryKey = @k", connection))
        {
            lookup.Parameters.AddWithValue("k", key);
            text = (string)lookup.ExecuteScalar()!;
        }
        using var command = new NpgsqlCommand(text, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command.ExecuteScalar();
    }

    static (string, object?)[] Silo(string cluster, int port, int version, int status = 1) =>
    [
        ("DeploymentId", cluster), ("Address", "127.0.0.1"), ("Port", port), ("Generation", 7), ("SiloName", $"s{port}"),
        ("HostName", "h"), ("Status", status), ("ProxyPort", port + 1), ("StartTime", DateTime.UtcNow), ("IAmAliveTime", DateTime.UtcNow),
        ("Version", version),
    ];

    int ReadVersion(string cluster)
    {
        using var connection = new NpgsqlConnection(Connection);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT Version FROM evomerge_membership_version WHERE DeploymentId = @d", connection);
        command.Parameters.AddWithValue("d", cluster);
        return Convert.ToInt32(command.ExecuteScalar());
    }

    [PostgresFact]
    public async Task Writes_succeed_only_with_the_version_last_read()
    {
        await PostgresMembership.EnsureSchema(Connection, CancellationToken.None);
        await PostgresMembership.EnsureSchema(Connection, CancellationToken.None);   // a second process: nothing changes, nothing fails
        string cluster = "c" + Guid.NewGuid().ToString("N")[..6];

        Assert.Equal(1, Convert.ToInt32(Query("InsertMembershipVersionKey", ("DeploymentId", cluster))));
        Assert.Equal(0, Convert.ToInt32(Query("InsertMembershipVersionKey", ("DeploymentId", cluster))));
        Assert.Equal(0, ReadVersion(cluster));

        Assert.Equal(1, Convert.ToInt32(Query("InsertMembershipKey", Silo(cluster, 100, version: 0))));
        Assert.Equal(0, Convert.ToInt32(Query("InsertMembershipKey", Silo(cluster, 200, version: 0))));   // stale: the table is at 1
        Assert.Equal(0, Convert.ToInt32(Query("InsertMembershipKey", Silo(cluster, 100, version: 1))));   // that silo is in already
        Assert.Equal(1, Convert.ToInt32(Query("InsertMembershipKey", Silo(cluster, 200, version: 1))));
        Assert.Equal(2, ReadVersion(cluster));

        (string, object?)[] Change(int version, int status) =>
            [("DeploymentId", cluster), ("Address", "127.0.0.1"), ("Port", 200), ("Generation", 7), ("Status", status),
             ("SuspectTimes", "S127.0.0.1:100:7,2026-12-03 10:00:00.000 GMT"), ("IAmAliveTime", DateTime.UtcNow), ("Version", version)];
        Assert.Equal(0, Convert.ToInt32(Query("UpdateMembershipKey", Change(version: 1, status: 6))));
        Assert.Equal(1, Convert.ToInt32(Query("UpdateMembershipKey", Change(version: 2, status: 6))));
        Assert.Equal(3, ReadVersion(cluster));

        // Gateways: active silos only (status 3 = Active); the dead one is gone, the joining one not yet there.
        Assert.Null(Query("GatewaysQueryKey", ("DeploymentId", cluster), ("Status", 3)));
        Query("CleanupDefunctSiloEntriesKey", ("DeploymentId", cluster), ("IAmAliveTime", DateTime.UtcNow.AddMinutes(1)));
        Query("DeleteMembershipTableEntriesKey", ("DeploymentId", cluster));
        Assert.Equal(1, Convert.ToInt32(Query("InsertMembershipVersionKey", ("DeploymentId", cluster))));   // all of it was deleted
    }
}
