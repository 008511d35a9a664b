using System.Diagnostics;
using System.Text.Json.Nodes;
using EvoMerge.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace EvoMerge.Torch.Tests.Dashboard;

/// <summary>
/// The dashboard's pages in a real browser (chromium, headless) against the real Kestrel server on loopback, over
/// runs of real tiny models, one of them written by an <c>evomerge evolve</c> running beside the test. Each page's
/// screenshot is kept in <see cref="Artifacts"/> (docs/dashboard.md shows two).
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserTests(DashboardRuns runs, ITestOutputHelper output) : IAsyncLifetime
{
    public static string Artifacts { get; } = Environment.GetEnvironmentVariable("EVOMERGE_ARTIFACTS") is { Length: > 0 } a
        ? Path.Combine(a, "dashboard") : Path.Combine(AppContext.BaseDirectory, "artifacts", "dashboard");

    WebApplication? _server;
    IPlaywright? _playwright;
    IBrowser? _browser;
    string _url = "";
    readonly List<string> _scriptErrors = [];

    /// <summary>No page threw or logged an error (the 404 of a refused URL aside).</summary>
    void NoScriptErrors() => Assert.Empty(_scriptErrors);

    public async Task InitializeAsync()
    {
        if (ChromiumFactAttribute.Executable is null) return;
        _server = DashboardServer.Create(new DashboardOptions(runs.Root, "127.0.0.1", 0));
        await _server.StartAsync();
        _url = _server.Urls.First();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumFactAttribute.Executable,
            Headless = true,
            Args = ["--no-sandbox"],   // tests run as root in CI containers
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }

    [ChromiumFact]
    public async Task The_runs_list_shows_a_finished_and_a_running_run()
    {
        runs.StartLive();
        var page = await Page();
        await page.GotoAsync(_url + "/");
        await page.WaitForSelectorAsync("tr[data-id='live'][data-status='running']");
        await page.WaitForSelectorAsync("tr[data-id='finished'][data-status='finished']");
        await page.WaitForSelectorAsync("tr[data-id='killed'][data-status='failed']");
        Assert.Equal("running", await page.TextContentAsync("tr[data-id='live'] .status"));
        await Screenshot(page, "runs-list");
        NoScriptErrors();
    }

    [ChromiumFact]
    public async Task A_running_runs_fitness_chart_gains_a_point_within_two_seconds_of_its_journal_line()
    {
        runs.StartLive();
        string journal = Path.Combine(runs.Live, "journal.jsonl");
        var page = await Page();
        await page.GotoAsync(_url + "/runs/live");
        await page.WaitForSelectorAsync("#chart-ps");
        var delays = new List<long>();
        for (int step = 0; step < 3; step++)
        {
            int lines = DashboardRuns.CompleteLines(journal).Count;
            var watch = Stopwatch.StartNew();
            while (DashboardRuns.CompleteLines(journal).Count == lines)
            {
                Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1), "the running evolve wrote no line for a minute");
                await Task.Delay(10);
            }
            // The line is on disk now: the chart must show it (and every earlier one) within 2 s.
            var shown = Stopwatch.StartNew();
            await page.WaitForFunctionAsync("n => +(document.querySelector('#chart-ps')?.dataset.points ?? 0) >= n", lines + 1,
                new() { Timeout = 2000, PollingInterval = 25 });
            delays.Add(shown.ElapsedMilliseconds);
        }
        output.WriteLine($"journal line seen on disk → its point on the chart: {string.Join(", ", delays)} ms (+ up to 10 ms of the test's polling)");
        await Screenshot(page, "run-live");
        await Screenshot(page, "run-live-top", fullPage: false);
        NoScriptErrors();
    }

    [ChromiumFact]
    public async Task Sorting_the_candidates_by_a_task_score_orders_the_rows()
    {
        var page = await Page();
        await page.GotoAsync(_url + "/runs/finished");
        await page.WaitForSelectorAsync("#candidates tbody tr");
        var lines = DashboardRuns.CompleteLines(Path.Combine(runs.Finished, "journal.jsonl"));
        // Independently: rows with a second fitness-task score by that score (ties by row), then the test rows.
        var scored = lines.Select((l, row) => (row, l)).Where(x => (string)x.l["kind"]! != "test")
            .Select(x => (x.row, score: (double)x.l["scores"]![1]!)).ToList();
        var unscored = lines.Select((l, row) => (row, l)).Where(x => (string)x.l["kind"]! == "test").Select(x => x.row).ToList();

        await page.ClickAsync("#candidates th[data-key='s1']");
        Assert.Equal("descending", await page.GetAttributeAsync("#candidates th[data-key='s1']", "aria-sort"));
        Assert.Equal(scored.OrderByDescending(x => x.score).ThenBy(x => x.row).Select(x => x.row).Concat(unscored), await Rows(page));

        await page.ClickAsync("#candidates th[data-key='s1']");
        Assert.Equal(scored.OrderBy(x => x.score).ThenBy(x => x.row).Select(x => x.row).Concat(unscored), await Rows(page));
        // The test rows carry test-task scores, not fitness-task ones: they stay last under the first task too.
        var first = lines.Select((l, row) => (row, l)).Where(x => (string)x.l["kind"]! != "test")
            .Select(x => (x.row, score: (double)x.l["scores"]![0]!)).ToList();
        await page.ClickAsync("#candidates th[data-key='s0']");
        Assert.Equal(first.OrderByDescending(x => x.score).ThenBy(x => x.row).Select(x => x.row).Concat(unscored), await Rows(page));

        await page.ClickAsync("#candidates th[data-key='row']");
        await Screenshot(page, "run-finished");

        await page.FillAsync("#filter", "dare_ties");
        Assert.Empty(await Rows(page));   // the method is not part of a decoded row: the filter matches row text only
        await page.FillAsync("#filter", "");
        await page.SelectOptionAsync("#stage-filter", "dfs");
        Assert.Equal(lines.Select((l, row) => (row, l)).Where(x => (string)x.l["stage"]! == "dfs").Select(x => x.row), await Rows(page));
        NoScriptErrors();
    }

    [ChromiumFact]
    public async Task The_heatmap_has_one_cell_per_model_and_group_holding_the_best_recipe()
    {
        var page = await Page();
        await page.GotoAsync(_url + "/runs/finished");
        await page.WaitForSelectorAsync("svg.heatmap");
        var lines = DashboardRuns.CompleteLines(Path.Combine(runs.Finished, "journal.jsonl"));
        var ps = lines.Where(l => (string)l["stage"]! == "ps" && (string)l["kind"]! == "search").ToList();
        var recipe = ps.First(l => (double)l["fitness"]! == ps.Max(x => (double)x["fitness"]!))["candidate"]!["recipe"]!;
        var parameters = recipe["parameters"]!.AsArray().Select(p => (string)p!).ToList();
        int models = recipe["models"]!.AsArray().Count, groups = recipe["groups"]!.AsArray().Count;

        Assert.Equal(parameters.Count, await page.Locator("#stage-ps svg.heatmap").CountAsync());
        for (int p = 0; p < parameters.Count; p++)
        {
            var cells = page.Locator($"#heatmap-ps-{parameters[p]} rect.cell");
            Assert.Equal(models * groups, await cells.CountAsync());
            for (int m = 0; m < models; m++)
                for (int g = 0; g < groups; g++)
                {
                    string value = (await page.GetAttributeAsync($"#heatmap-ps-{parameters[p]} rect.cell[data-model='{m}'][data-group='{g}']", "data-value"))!;
                    Assert.Equal((double)recipe["values"]![g]![m]![p]!, double.Parse(value, System.Globalization.CultureInfo.InvariantCulture), 12);
                }
        }
        var bestPath = JsonNode.Parse(File.ReadAllText(Path.Combine(runs.Finished, "dfs", "best-path.json")))!;
        Assert.Equal(bestPath["steps"]!.AsArray().Count, await page.Locator("#path-dfs circle.step").CountAsync());
        NoScriptErrors();
    }

    [ChromiumFact]
    public async Task The_pareto_front_compare_view_and_hostile_runs_render()
    {
        var page = await Page();
        await page.GotoAsync(_url + "/runs/pareto");
        await page.WaitForSelectorAsync("#pareto-ps");
        Assert.True(int.Parse((await page.GetAttributeAsync("#pareto-ps", "data-front"))!) > 0);
        await Screenshot(page, "run-pareto");

        await page.GotoAsync(_url + "/compare?runs=finished,pareto");
        await page.WaitForSelectorAsync("#compare-chart");
        Assert.Equal(3, await page.Locator("#compare-chart g.series").CountAsync());   // finished: ps and dfs; pareto: ps
        await Screenshot(page, "compare");

        await page.GotoAsync(_url + "/runs/killed");
        await page.WaitForSelectorAsync("#errors");
        Assert.Contains("last line is incomplete", await page.InnerTextAsync("#errors"));
        await page.WaitForSelectorAsync("#chart-ps");
        await page.GotoAsync(_url + "/runs/bad-config");
        await page.WaitForSelectorAsync("#errors");
        Assert.Contains("config.json", await page.InnerTextAsync("#errors"));
        await page.WaitForSelectorAsync("#chart-ps");

        var response = await page.GotoAsync(_url + "/runs/..%2F..%2Fetc");
        Assert.Equal(404, response!.Status);
        NoScriptErrors();
    }

    [ChromiumFact]
    public async Task A_cluster_runs_page_shows_its_workers_live_and_a_single_process_run_shows_none()
    {
        runs.WriteWorkers(DashboardRuns.Workers(results: 5));
        var page = await Page();
        await page.GotoAsync(_url + "/runs/cluster");
        await page.WaitForSelectorAsync("#workers tbody tr");
        // By hand from DashboardRuns.Workers: gpu-0 busy on two keys, 90 of 120 slot-seconds busy, seen 1.5 s before
        // the update; gpu-1 dead, 70 of 80 busy, seen 40 s before.
        Assert.Equal(["gpu-0", "gpu-1"], await Cells(page, "name"));
        Assert.Equal(["busy", "dead"], await Cells(page, "state"));
        Assert.Equal(["2", "1"], await Cells(page, "slots"));
        Assert.Equal(["5", "3"], await Cells(page, "results"));
        Assert.Equal(["2.5", "3"], await Cells(page, "candidates"));
        Assert.Equal(["75 %", "88 %"], await Cells(page, "busy"));
        Assert.Equal(["0123456789ab fedcba987654", "–"], await Cells(page, "work"));
        Assert.Equal(["1.5 s ago", "40.0 s ago"], await Cells(page, "last_seen"));
        // The run is finished (no process holds its journal): the table is the driver's last word, and says so.
        Assert.Contains("the driver is no longer running", await page.InnerTextAsync("#workers-note"));
        Assert.Contains("worker gpu-1 died", await page.InnerTextAsync("#workers-message"));
        await Screenshot(page, "run-cluster");
        await Screenshot(page, "run-cluster-top", fullPage: false);   // docs/dashboard/run-cluster.png

        // The driver rewrites the file: the open page follows within 2 s, with no reload.
        var watch = Stopwatch.StartNew();
        runs.WriteWorkers(DashboardRuns.Workers(results: 9, gpu0State: "idle"));
        await page.WaitForSelectorAsync("#workers tr[data-worker='gpu-0'][data-state='idle']", new() { Timeout = 2000 });
        output.WriteLine($"workers.json rewritten → table updated: {watch.ElapsedMilliseconds} ms");
        Assert.Equal(["9", "3"], await Cells(page, "results"));
        Assert.Equal(["–", "–"], await Cells(page, "work"));

        await page.GotoAsync(_url + "/runs/pareto");
        await page.WaitForSelectorAsync("#chart-ps");
        Assert.Equal(0, await page.Locator("#workers-card").CountAsync());
        NoScriptErrors();
    }

    static async Task<List<string>> Cells(IPage page, string key) =>
        (await page.Locator($"#workers tbody td[data-key='{key}'], #workers tbody td span[data-key='{key}']").AllInnerTextsAsync()).Select(t => t.Trim()).ToList();

    [ChromiumFact]
    public async Task A_run_page_fits_a_phone_width_screen()
    {
        var page = await Page(390, 844);
        await page.GotoAsync(_url + "/runs/finished");
        await page.WaitForSelectorAsync("#candidates tbody tr");
        // Wide tables scroll inside their own box; the page itself never scrolls sideways.
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth + 1"));
        await Screenshot(page, "run-phone");
        NoScriptErrors();
    }

    async Task<IPage> Page(int width = 1280, int height = 900)
    {
        var page = await _browser!.NewPageAsync(new() { ViewportSize = new() { Width = width, Height = height } });
        page.PageError += (_, e) => _scriptErrors.Add($"{page.Url}: {e}");
        page.Console += (_, m) => { if (m.Type == "error" && !m.Text.Contains("404")) _scriptErrors.Add($"{page.Url}: {m.Text}"); };
        return page;
    }

    static async Task<List<int>> Rows(IPage page) =>
        (await page.Locator("#candidates tbody tr").EvaluateAllAsync<int[]>("rows => rows.map(r => +r.dataset.row)")).ToList();

    static async Task Screenshot(IPage page, string name, bool fullPage = true)
    {
        Directory.CreateDirectory(Artifacts);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, name + ".png"), FullPage = fullPage });
    }
}
