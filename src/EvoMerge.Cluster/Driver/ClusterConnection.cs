using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EvoMerge.Cluster.Driver;

/// <summary>The driver's Orleans client, connected to the cluster of <c>--cluster &lt;spec&gt;</c>.</summary>
public sealed class ClusterConnection : IAsyncDisposable, IDisposable
{
    readonly IHost _host;

    public IClusterClient Client { get; }

    ClusterConnection(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>Connects, retrying until a gateway answers or <paramref name="wait"/> has passed.</summary>
    public static async Task<ClusterConnection> Connect(ClusterSpec spec, TimeSpan wait, CancellationToken cancellationToken)
    {
        await spec.PrepareBackend(cancellationToken);
        var host = Host.CreateDefaultBuilder([])
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleansClient(client =>
            {
                spec.ConfigureClient(client);
                var deadline = DateTime.UtcNow + wait;
                client.UseConnectionRetryFilter(async (_, ct) =>
                {
                    if (DateTime.UtcNow > deadline) return false;
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                    return true;
                });
            })
            .Build();
        try { await host.StartAsync(cancellationToken); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw new EvoMergeException($"--cluster {spec.Describe()}: no worker answered within {wait.TotalSeconds:0} s " +
                $"(start one with `evomerge worker --cluster {spec.Describe()}`): {e.GetBaseException().Message}");
        }
        return new ClusterConnection(host);
    }

    public async ValueTask DisposeAsync()
    {
        try { await _host.StopAsync(TimeSpan.FromSeconds(5)); }
        finally { _host.Dispose(); }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
