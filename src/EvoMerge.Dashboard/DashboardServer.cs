using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EvoMerge.Dashboard;

/// <param name="RunsRoot">A folder of run folders, or one run folder.</param>
/// <param name="Port">0 picks a free port (tests).</param>
public sealed record DashboardOptions(string RunsRoot, string Host = "127.0.0.1", int Port = 8080);

/// <summary>The dashboard as a Kestrel web server: <c>evomerge dashboard</c> builds one and runs it.</summary>
public static class DashboardServer
{
    /// <summary>Nothing may be fetched from elsewhere: the page is self-contained, and the browser is told so.</summary>
    const string ContentPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

    public static WebApplication Create(DashboardOptions options)
    {
        if (!IPAddress.TryParse(options.Host, out var address) && options.Host != "localhost")
            throw new EvoMergeException($"--host: '{options.Host}' is not an IP address (use 127.0.0.1, ::1 or 0.0.0.0)");
        if (options.Port is < 0 or > 65535) throw new EvoMergeException($"--port: {options.Port} is not a port (0-65535)");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddDashboard(options.RunsRoot);
        builder.WebHost.UseKestrel(kestrel =>
        {
            if (address is null) kestrel.ListenLocalhost(options.Port);
            else kestrel.Listen(address, options.Port);
        });
        // Bound to loopback, only loopback names are answered: a web page elsewhere cannot reach the runs through
        // a DNS name that resolves to 127.0.0.1 (DNS rebinding).
        if (IsLoopback(options.Host))
            builder.Services.AddHostFiltering(o => o.AllowedHosts = ["localhost", "127.0.0.1", "[::1]"]);

        var app = builder.Build();
        if (IsLoopback(options.Host)) app.UseHostFiltering();
        app.Use((context, next) =>
        {
            context.Response.Headers.ContentSecurityPolicy = ContentPolicy;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return next(context);
        });
        app.MapDashboard();
        return app;
    }

    /// <summary>Serves until <paramref name="cancel"/> (Ctrl+C); <paramref name="started"/> gets the addresses once listening.</summary>
    public static async Task RunAsync(DashboardOptions options, Action<IReadOnlyList<string>> started, CancellationToken cancel)
    {
        await using var app = Create(options);
        await app.StartAsync(cancel);
        started([.. app.Urls]);
        await app.WaitForShutdownAsync(cancel);
    }

    /// <summary>The warning to print before serving on <paramref name="host"/>, or null on a loopback address.</summary>
    public static string? ExposureWarning(string host) => IsLoopback(host) ? null :
        $"warning: the dashboard has no authentication; bound to {host}, anyone who can reach this machine can read these runs";

    static bool IsLoopback(string host) => host == "localhost" || (IPAddress.TryParse(host, out var a) && IPAddress.IsLoopback(a));
}
