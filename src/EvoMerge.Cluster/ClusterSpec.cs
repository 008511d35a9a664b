using System.Net;
using System.Net.Sockets;
using Orleans.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Hosting;

namespace EvoMerge.Cluster;

/// <summary>
/// Where a cluster's membership lives, as given to <c>--cluster</c>:
/// <c>localhost</c> (one machine; the first worker started is the primary silo on port 11111, gateway 30000),
/// <c>redis://HOST:PORT</c> or <c>postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE</c> (many machines; every worker
/// and the driver point at the same Redis or database).
/// </summary>
/// <param name="Address">Redis: HOST:PORT; PostgreSQL: the Npgsql connection string.</param>
/// <param name="Shown">The spec as the user wrote it, password left out.</param>
public sealed record ClusterSpec(ClusterSpec.Backend Kind, string? Address, string ClusterId, string Shown = "localhost")
{
    public enum Backend { Localhost, Redis, Postgres }

    public const int PrimarySiloPort = 11111, PrimaryGatewayPort = 30000;

    public static ClusterSpec Parse(string spec, string clusterId = "evomerge")
    {
        if (spec == "localhost") return new(Backend.Localhost, null, clusterId);
        if (spec.StartsWith("redis://", StringComparison.Ordinal) && spec.Length > "redis://".Length)
            return new(Backend.Redis, spec["redis://".Length..].TrimEnd('/'), clusterId, spec);
        if (spec.StartsWith("postgres://", StringComparison.Ordinal) || spec.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            string connection = Membership.PostgresMembership.ConnectionString(spec);
            var uri = new Uri(spec);
            string user = uri.UserInfo.Split(':')[0];
            return new(Backend.Postgres, connection, clusterId, $"{uri.Scheme}://{(user.Length > 0 ? user + "@" : "")}{uri.Authority}{uri.AbsolutePath}");
        }
        throw new EvoMergeException($"--cluster '{spec}': expected 'localhost', 'redis://HOST:PORT' or 'postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE'");
    }

    /// <summary>The spec as the user writes it (without a password).</summary>
    public string Describe() => Shown;

    /// <summary>Makes the membership store ready before a silo or the driver starts (PostgreSQL: its tables and queries).</summary>
    public Task PrepareBackend(CancellationToken cancellationToken) => Kind == Backend.Postgres
        ? Membership.PostgresMembership.EnsureSchema(Address!, cancellationToken)
        : Task.CompletedTask;

    /// <summary>Membership and ports of a worker silo. On localhost the first worker takes the primary's ports.</summary>
    public void ConfigureSilo(ISiloBuilder silo, string advertisedHost = "127.0.0.1")
    {
        silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, ClusterId));
        silo.Configure<ClusterMembershipOptions>(FastFailureDetection);
        if (Kind == Backend.Localhost)
        {
            bool primary = PortIsFree(PrimarySiloPort) && PortIsFree(PrimaryGatewayPort);
            silo.UseLocalhostClustering(primary ? PrimarySiloPort : FreePort(), primary ? PrimaryGatewayPort : FreePort(),
                new IPEndPoint(IPAddress.Loopback, PrimarySiloPort), ClusterId, ClusterId);
        }
        else
        {
            if (Kind == Backend.Redis) silo.UseRedisClustering(Address!);
            else silo.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (Membership.PostgresMembership.Invariant, Address!));
            silo.ConfigureEndpoints(IPAddress.Parse(advertisedHost), FreePort(), FreePort(), listenOnAnyHostAddress: advertisedHost != "127.0.0.1");
        }
    }

    /// <summary>Membership of the driver (an Orleans client), and no response timeout shorter than a long evaluation.</summary>
    public void ConfigureClient(IClientBuilder client)
    {
        if (Kind == Backend.Localhost) client.UseLocalhostClustering(PrimaryGatewayPort, ClusterId, ClusterId);
        else
        {
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, ClusterId));
            if (Kind == Backend.Redis) client.UseRedisClustering(Address!);
            else client.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (Membership.PostgresMembership.Invariant, Address!));
        }
        ConfigureClientTimeouts(client);
    }

    /// <summary>
    /// A candidate may take many minutes; the driver watches membership for dead workers instead of timing calls out.
    /// </summary>
    public static void ConfigureClientTimeouts(IClientBuilder client) =>
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromDays(1));

    /// <summary>
    /// A killed worker is declared dead in about 6 s rather than the default 15 s or more; not faster, because a
    /// worker whose cores are saturated by scoring must still answer probes in time or be wrongly declared dead.
    /// </summary>
    public static void FastFailureDetection(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(2);
        o.NumMissedProbesLimit = 3;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
    }

    static bool PortIsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException) { return false; }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
