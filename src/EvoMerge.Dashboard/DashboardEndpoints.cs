using EvoMerge.Evolution.Run;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EvoMerge.Dashboard;

/// <summary>
/// The dashboard's routes. Pages: <c>/</c> (runs), <c>/runs/&lt;id&gt;</c>, <c>/compare?runs=a,b</c>, all the one
/// embedded page. API: <c>/api/runs</c>, <c>/api/runs/&lt;id&gt;</c>, <c>/api/events/&lt;id&gt;</c> (server-sent
/// events), <c>/api/file/&lt;stage&gt;-recipe|path/&lt;id&gt;</c>. Every id is looked up in the <see cref="RunCatalog"/>.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>Registers what the routes need: the catalog of runs under <paramref name="runsRoot"/>.</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services, string runsRoot) =>
        services.AddRouting().AddSingleton(new RunCatalog(runsRoot));

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => EmbeddedAssets.Page());
        app.MapGet("/compare", () => EmbeddedAssets.Page());
        app.MapGet("/runs/{**id}", (string id, RunCatalog runs) => runs.Find(id) is null ? NotFound(id) : EmbeddedAssets.Page());
        app.MapGet("/assets/{name}", (string name) => EmbeddedAssets.Asset(name));

        app.MapGet("/api/runs", (RunCatalog runs) => Json(runs.All().Select(ListItem).ToList()));
        app.MapGet("/api/runs/{**id}", (string id, RunCatalog runs) =>
            runs.Find(id) is { } run ? Shown(run, () => Json(RunApi.Detail(run.Refresh()))) : NotFound(id));
        app.MapGet("/api/events/{**id}", (string id, int? from, RunCatalog runs, HttpContext context) =>
            runs.Find(id) is { } run ? EventStream.Run(run, from ?? 0, context) : NotFound(id).ExecuteAsync(context));
        app.MapGet("/api/file/{name}/{**id}", (string name, string id, RunCatalog runs) =>
        {
            if (runs.Find(id) is not { } run) return NotFound(id);
            if (RunApi.FileFor(run, name) is not { } path) return Results.Json(new { error = $"run '{id}' has no file '{name}'" }, statusCode: 404);
            string download = $"{id.Replace('/', '-')}-{Path.GetFileName(Path.GetDirectoryName(path))}-{Path.GetFileName(path)}";
            return Results.File(File.ReadAllBytes(path), path.EndsWith(".yml", StringComparison.Ordinal) ? "application/yaml" : "application/json", download);
        });
        return app;
    }

    internal static IResult Json<T>(T value) => Results.Json(value, RunJson.Options);

    /// <summary>
    /// A run whose files pass every check but still cannot be drawn is a bug here, not a reason for an empty 500:
    /// the answer names the run and what failed.
    /// </summary>
    static IResult Shown(RunView run, Func<IResult> show)
    {
        try { return show(); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Results.Json(new { error = $"{run.Folder.Root}: cannot be shown: {e.GetType().Name}: {e.Message}" }, statusCode: 500);
        }
    }

    /// <summary>One run that cannot be listed does not hide the others: it is listed with what went wrong.</summary>
    static RunListItem ListItem(RunView run)
    {
        try { return RunApi.ListItem(run.Refresh()); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new RunListItem(run.Id, run.Id, null, RunApi.StatusName(RunStatus.Failed), null, 0, 0, null,
                [$"{run.Folder.Root}: cannot be shown: {e.GetType().Name}: {e.Message}"]);
        }
    }

    static IResult NotFound(string id) => Results.Json(new { error = $"no run '{id}' under the dashboard's runs folder" }, statusCode: 404);
}
