using Npgsql;

namespace EvoMerge.Cluster.Membership;

/// <summary>
/// Cluster membership in PostgreSQL through Orleans' ADO.NET clustering provider. The provider reads its SQL from a
/// table <c>OrleansQuery</c> (query key → text) and sets named parameters (<c>@DeploymentId</c>, <c>@Address</c>,
/// <c>@Port</c>, <c>@Generation</c>, <c>@Version</c>, …); it reads result columns by name. This class writes EvoMerge's
/// own tables and queries for that contract (<see cref="Schema"/>), idempotently and under an advisory lock, so
/// every worker and the driver can run it at start and the first one creates them. A database that already holds
/// Orleans' own clustering scripts keeps its queries (keys present are left as they are).
/// Membership rows are versioned: a writer passes the version it read and succeeds only if the version is still
/// that one, which the functions check holding the version row's lock, so concurrent writers cannot both win.
/// </summary>
public static class PostgresMembership
{
    /// <summary>Orleans' name of the ADO.NET provider (its invariant) for Npgsql.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>An arbitrary constant: the advisory lock that serialises schema creation across processes.</summary>
    const long SchemaLock = 0x45766f4d65726765;   // "EvoMerge"

    /// <summary>
    /// The Npgsql connection string of <c>postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE</c> (or <c>postgresql://</c>).
    /// </summary>
    public static string ConnectionString(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql") || uri.Host == ""
            || uri.AbsolutePath.Trim('/') is not { Length: > 0 } database)
            throw new EvoMergeException($"--cluster '{url}': expected postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE");
        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port, Database = Uri.UnescapeDataString(database) };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        return builder.ConnectionString;
    }

    /// <summary>Creates EvoMerge's membership tables, functions and queries where missing.</summary>
    public static async Task EnsureSchema(string connectionString, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SchemaLock})", connection, transaction))
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            await using (var schema = new NpgsqlCommand(Schema, connection, transaction))
                await schema.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            var shown = new NpgsqlConnectionStringBuilder(connectionString) { Password = null };
            throw new EvoMergeException($"--cluster: PostgreSQL at {shown.Host}:{shown.Port}/{shown.Database} is not usable for membership: {e.Message}");
        }
    }

    /// <summary>
    /// The tables (one version row per cluster, one row per silo incarnation), the two writing functions, and the
    /// text of each query key the provider asks for. Timestamps are timestamptz (the provider passes UTC times).
    /// </summary>
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS OrleansQuery (
            QueryKey varchar(64) PRIMARY KEY,
            QueryText text NOT NULL);

        CREATE TABLE IF NOT EXISTS evomerge_membership_version (
            DeploymentId text PRIMARY KEY,
            Version integer NOT NULL DEFAULT 0,
            ChangedAt timestamptz NOT NULL DEFAULT now());

        CREATE TABLE IF NOT EXISTS evomerge_membership (
            DeploymentId text NOT NULL REFERENCES evomerge_membership_version (DeploymentId) ON DELETE CASCADE,
            Address text NOT NULL,
            Port integer NOT NULL,
            Generation integer NOT NULL,
            SiloName text NOT NULL,
            HostName text NOT NULL,
            Status integer NOT NULL,
            ProxyPort integer,
            SuspectTimes text,
            StartTime timestamptz NOT NULL,
            IAmAliveTime timestamptz NOT NULL,
            PRIMARY KEY (DeploymentId, Address, Port, Generation));

        -- Adds a silo's row if the cluster's version is still the one the caller read; 1 on success, else 0.
        CREATE OR REPLACE FUNCTION evomerge_join(deployment text, address_ text, port_ integer, generation_ integer,
            silo text, host text, status_ integer, proxy integer, started timestamptz, alive timestamptz, expected integer)
        RETURNS integer LANGUAGE plpgsql AS $$
        DECLARE seen integer;
        BEGIN
            SELECT Version INTO seen FROM evomerge_membership_version WHERE DeploymentId = deployment FOR UPDATE;
            IF seen IS DISTINCT FROM expected THEN RETURN 0; END IF;
            INSERT INTO evomerge_membership (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
            VALUES (deployment, address_, port_, generation_, silo, host, status_, proxy, started, alive)
            ON CONFLICT DO NOTHING;
            IF NOT FOUND THEN RETURN 0; END IF;
            UPDATE evomerge_membership_version SET Version = Version + 1, ChangedAt = now() WHERE DeploymentId = deployment;
            RETURN 1;
        END $$;

        -- Changes a silo's status and suspicions under the same version check.
        CREATE OR REPLACE FUNCTION evomerge_change(deployment text, address_ text, port_ integer, generation_ integer,
            status_ integer, suspects text, alive timestamptz, expected integer)
        RETURNS integer LANGUAGE plpgsql AS $$
        DECLARE seen integer;
        BEGIN
            SELECT Version INTO seen FROM evomerge_membership_version WHERE DeploymentId = deployment FOR UPDATE;
            IF seen IS DISTINCT FROM expected THEN RETURN 0; END IF;
            UPDATE evomerge_membership SET Status = status_, SuspectTimes = suspects, IAmAliveTime = alive
            WHERE DeploymentId = deployment AND Address = address_ AND Port = port_ AND Generation = generation_;
            IF NOT FOUND THEN RETURN 0; END IF;
            UPDATE evomerge_membership_version SET Version = Version + 1, ChangedAt = now() WHERE DeploymentId = deployment;
            RETURN 1;
        END $$;

        INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
        ('InsertMembershipVersionKey',
         'WITH added AS (INSERT INTO evomerge_membership_version (DeploymentId) VALUES (@DeploymentId) ON CONFLICT DO NOTHING RETURNING 1)
          SELECT count(*)::integer FROM added'),
        ('InsertMembershipKey',
         'SELECT evomerge_join(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version)'),
        ('UpdateMembershipKey',
         'SELECT evomerge_change(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes, @IAmAliveTime, @Version)'),
        ('UpdateIAmAlivetimeKey',
         'UPDATE evomerge_membership SET IAmAliveTime = @IAmAliveTime
          WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation'),
        ('MembershipReadRowKey',
         'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort, m.SuspectTimes,
                 m.StartTime, m.IAmAliveTime, v.Version
          FROM evomerge_membership_version v
          LEFT JOIN evomerge_membership m ON m.DeploymentId = v.DeploymentId
               AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
          WHERE v.DeploymentId = @DeploymentId'),
        ('MembershipReadAllKey',
         'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort, m.SuspectTimes,
                 m.StartTime, m.IAmAliveTime, v.Version
          FROM evomerge_membership_version v
          LEFT JOIN evomerge_membership m ON m.DeploymentId = v.DeploymentId
          WHERE v.DeploymentId = @DeploymentId'),
        ('DeleteMembershipTableEntriesKey',
         'DELETE FROM evomerge_membership_version WHERE DeploymentId = @DeploymentId'),
        ('GatewaysQueryKey',
         'SELECT Address, ProxyPort, Generation FROM evomerge_membership
          WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0'),
        ('CleanupDefunctSiloEntriesKey',
         'DELETE FROM evomerge_membership WHERE DeploymentId = @DeploymentId AND IAmAliveTime < @IAmAliveTime AND Status <> 3'),
        -- Named by the provider but not called by this version of it: deletes nothing.
        ('CleanupDefunctSiloEntryKey',
         'DELETE FROM evomerge_membership WHERE false AND DeploymentId = @DeploymentId')
        ON CONFLICT (QueryKey) DO NOTHING;
        """;
}
