using System.Diagnostics;
using System.Net;

namespace EvoMerge.Torch.Tests.Dashboard;

/// <summary><c>evomerge dashboard</c> as a user starts it: its own process, the address it prints, the warning off loopback.</summary>
public class DashboardCliTests
{
    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "EvoMerge.Cli.dll");

    [Fact]
    public async Task It_binds_to_loopback_by_default_and_serves_the_page()
    {
        string root = Directory.CreateTempSubdirectory("evo-dash-").FullName;
        try
        {
            using var server = new Server(root, ["--port", "0"]);
            string url = await server.Address();
            Assert.StartsWith("http://127.0.0.1:", url);
            using var client = new HttpClient();
            Assert.Equal("[]", await client.GetStringAsync(url + "api/runs"));
            Assert.Contains("<script src=\"/assets/app.js\">", await client.GetStringAsync(url));
            // Another name for this machine is refused while bound to loopback (DNS rebinding).
            using var rebound = new HttpRequestMessage(HttpMethod.Get, url + "api/runs") { Headers = { Host = "evil.example" } };
            Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(rebound)).StatusCode);
            Assert.Equal("", server.Errors());
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public async Task Listening_on_all_interfaces_warns_that_there_is_no_authentication()
    {
        string root = Directory.CreateTempSubdirectory("evo-dash-").FullName;
        try
        {
            using var server = new Server(root, ["--host", "0.0.0.0", "--port", "0"]);
            string url = await server.Address();
            Assert.StartsWith("http://0.0.0.0:", url);
            Assert.StartsWith("warning: the dashboard has no authentication", server.Errors(TimeSpan.FromSeconds(10)));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void A_missing_runs_folder_is_one_clear_error()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"evo-no-runs-{Guid.NewGuid():N}");
        using var server = new Server(missing, ["--port", "0"]);
        Assert.True(server.Process.WaitForExit(TimeSpan.FromMinutes(1)));
        server.Process.WaitForExit();
        Assert.Equal(1, server.Process.ExitCode);
        Assert.Equal($"error: {missing}: runs folder not found", server.Errors().Trim());
    }

    /// <summary><c>evomerge dashboard</c> in its own process: stdout read line by line, stderr collected; killed on dispose.</summary>
    sealed class Server : IDisposable
    {
        readonly List<string> _errors = [];
        public Process Process { get; }

        public Server(string root, string[] options)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in (string[])[Cli, "dashboard", root, .. options]) psi.ArgumentList.Add(a);
            Process = Process.Start(psi)!;
            Process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lock (_errors) _errors.Add(line); };
            Process.BeginErrorReadLine();
        }

        public string Errors(TimeSpan? waitFor = null)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                lock (_errors) if (_errors.Count > 0 || watch.Elapsed >= (waitFor ?? TimeSpan.Zero)) return string.Join("\n", _errors);
                Thread.Sleep(20);
            }
        }

        /// <summary>The first address the server printed ("dashboard: http://127.0.0.1:PORT/ (...)").</summary>
        public async Task<string> Address()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            while (await Process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
                if (line.StartsWith("dashboard: ")) return line["dashboard: ".Length..].Split(' ')[0].TrimEnd(',');
            throw new InvalidOperationException($"the dashboard exited: {Errors(TimeSpan.FromSeconds(1))}");
        }

        public void Dispose()
        {
            if (!Process.HasExited) { Process.Kill(); Process.WaitForExit(); }
            Process.Dispose();
        }
    }
}
