using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// A throwaway PostgreSQL server (Debian's postgresql) in a temporary folder on a free loopback port, trusting local
/// connections, for the membership tests. PostgreSQL refuses to run as root: as root the server runs as the
/// <c>postgres</c> account the package creates.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    public static string? Bin { get; } = new[] { "/usr/lib/postgresql" }.Where(Directory.Exists)
        .SelectMany(d => Directory.GetDirectories(d).OrderDescending()).Select(v => Path.Combine(v, "bin"))
        .Concat(["/usr/local/bin", "/usr/bin"]).FirstOrDefault(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "postgres")));

    readonly string _root = Directory.CreateTempSubdirectory("evo-postgres-").FullName;
    readonly Process? _server;

    public int Port { get; }
    public string Url => $"postgres://evomerge@127.0.0.1:{Port}/postgres";

    public PostgresServer()
    {
        if (Bin is not { } bin) return;
        string data = Path.Combine(_root, "data");
        bool root = Environment.UserName == "root";
        if (root) Run("chown", "postgres", _root);
        Run(bin, root, "initdb", "-D", data, "-U", "evomerge", "--auth=trust", "-E", "UTF8", "--no-sync");
        Port = FreePort();
        _server = Start(bin, root, "postgres", "-D", data, "-p", Port.ToString(), "-k", _root, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!Answers(Port))
        {
            if (DateTime.UtcNow > deadline || _server.HasExited) throw new InvalidOperationException($"postgres did not start on port {Port}");
            Thread.Sleep(50);
        }
    }

    static ProcessStartInfo Info(string bin, bool asPostgres, string tool, string[] args)
    {
        var psi = new ProcessStartInfo(asPostgres ? "runuser" : Path.Combine(bin, tool)) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asPostgres) foreach (var a in (string[])["-u", "postgres", "--", Path.Combine(bin, tool)]) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    static void Run(string bin, bool asPostgres, string tool, params string[] args)
    {
        using var p = Process.Start(Info(bin, asPostgres, tool, args))!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} failed ({p.ExitCode}): {output}");
    }

    static void Run(string file, params string[] args)
    {
        using var p = Process.Start(file, args)!;
        p.WaitForExit();
    }

    static Process Start(string bin, bool asPostgres, string tool, params string[] args)
    {
        var p = Process.Start(Info(bin, asPostgres, tool, args))!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static bool Answers(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    public void Dispose()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            _server.WaitForExit(10_000);
        }
        _server?.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}

/// <summary>Skips with the install command when Debian's postgresql is missing (.ci/run installs it).</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServer.Bin is null) Skip = "postgresql is not installed (apt-get install postgresql; .ci/run does)";
    }
}
