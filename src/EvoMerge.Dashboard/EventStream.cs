using System.Text.Json;
using EvoMerge.Evolution.Run;
using Microsoft.AspNetCore.Http;

namespace EvoMerge.Dashboard;

/// <summary>
/// <c>/api/events/&lt;id&gt;?from=N</c>: server-sent events for one run page. The journal's tail is checked every
/// <see cref="Tick"/> (a stat, then only the new bytes are read); when anything changed, an <c>update</c> event
/// carries the run with only the candidates the client has not seen. A new run in the folder sends <c>reset</c>.
/// </summary>
static class EventStream
{
    static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public static async Task Run(RunView run, int from, HttpContext context)
    {
        var response = context.Response;
        response.Headers.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var aborted = context.RequestAborted;
        int sent = from, version = -1, generation = -1;
        var quiet = DateTime.UtcNow;
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                var snapshot = run.Refresh();
                if (generation >= 0 && snapshot.Generation != generation)
                {
                    await Send(response, "reset", "{}", aborted);
                    return;
                }
                generation = snapshot.Generation;
                if (snapshot.Version != version)
                {
                    var detail = RunApi.Detail(snapshot, sent);
                    await Send(response, "update", JsonSerializer.Serialize(detail, RunJson.Options), aborted);
                    (sent, version, quiet) = (detail.CandidateCount, snapshot.Version, DateTime.UtcNow);
                }
                else if (DateTime.UtcNow - quiet > KeepAlive)
                {
                    await response.WriteAsync(": keep-alive\n\n", aborted);
                    await response.Body.FlushAsync(aborted);
                    quiet = DateTime.UtcNow;
                }
                await Task.Delay(Tick, aborted);
            }
        }
        catch (OperationCanceledException) { }   // the page was closed
    }

    static async Task Send(HttpResponse response, string name, string json, CancellationToken cancel)
    {
        await response.WriteAsync($"event: {name}\ndata: {json}\n\n", cancel);
        await response.Body.FlushAsync(cancel);
    }
}
