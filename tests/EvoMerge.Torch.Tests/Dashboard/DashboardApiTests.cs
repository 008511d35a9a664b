using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EvoMerge.TestSupport;
using EvoMerge.Torch.Tests.Evolution;

namespace EvoMerge.Torch.Tests.Dashboard;

/// <summary>
/// The dashboard's API on run folders of real tiny <c>evolve</c> runs, each answer checked against the run's files
/// read independently (journal lines as plain JSON, best-recipe.yml and best-path.json as bytes).
/// </summary>
[Collection(DashboardCollection.Name)]
public class DashboardApiTests(DashboardRuns runs)
{
    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task The_runs_list_names_every_run_with_its_status_and_counts()
    {
        using var factory = new DashboardFactory(runs.Root);
        var list = (await Get(factory, "/api/runs")).AsArray().Select(r => r!.AsObject()).ToDictionary(r => (string)r["id"]!);

        Assert.Superset(new HashSet<string> { "finished", "pareto", "killed", "bad-config" }, list.Keys.ToHashSet());
        Assert.Equal("finished", (string)list["finished"]["status"]!);
        Assert.Equal("ps+dfs", (string)list["finished"]["space"]!);
        Assert.Equal("failed", (string)list["killed"]["status"]!);
        var lines = DashboardRuns.CompleteLines(Path.Combine(runs.Finished, "journal.jsonl"));
        var searched = lines.Where(l => (string)l["kind"]! != "test").ToList();
        Assert.Equal(searched.Count(l => !(bool)l["cached"]!), (int)list["finished"]["evaluations"]!);
        Assert.Equal(searched.Max(l => (double)l["fitness"]!), (double)list["finished"]["best_fitness"]!);
        Assert.Contains(list["bad-config"]["errors"]!.AsArray(), e => ((string)e!).Contains("config.json"));
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task A_single_run_folder_is_served_as_the_one_run()
    {
        using var factory = new DashboardFactory(runs.Finished);
        var list = (await Get(factory, "/api/runs")).AsArray();
        Assert.Equal("finished", (string)Assert.Single(list)!["id"]!);
        Assert.Equal(DashboardRuns.CompleteLines(Path.Combine(runs.Finished, "journal.jsonl")).Count,
            (int)(await Get(factory, "/api/runs/finished"))["candidate_count"]!);
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task A_run_has_its_series_candidates_heatmap_path_and_downloads()
    {
        using var factory = new DashboardFactory(runs.Root);
        var run = await Get(factory, "/api/runs/finished");
        var lines = DashboardRuns.CompleteLines(Path.Combine(runs.Finished, "journal.jsonl"));

        Assert.Equal(lines.Count, (int)run["candidate_count"]!);
        Assert.Equal(["perplexity (story.txt)", "perplexity (dog.txt)"], run["tasks"]!.AsArray().Select(t => (string)t!));
        var stages = run["stages"]!.AsArray().Select(s => s!.AsObject()).ToDictionary(s => (string)s["stage"]!);
        Assert.Equal(["ps", "dfs"], stages.Keys);
        foreach (var (name, stage) in stages)
        {
            var search = lines.Where(l => (string)l["stage"]! == name && (string)l["kind"]! == "search").ToList();
            var generations = search.GroupBy(l => (int)l["generation"]!).OrderBy(g => g.Key).ToList();
            // No minibatches here: best so far is the running maximum of each generation's best, starting from the
            // stage's anchors (a DFS stage scores each source's own path on full dev before generation 0).
            double soFar = lines.Where(l => (string)l["stage"]! == name && (string)l["kind"]! == "anchor")
                .Select(l => (double)l["fitness"]!).DefaultIfEmpty(double.NegativeInfinity).Max();
            var expected = generations.Select(g => soFar = Math.Max(soFar, g.Max(l => (double)l["fitness"]!))).ToList();
            Assert.Equal(expected, stage["best_so_far"]!.AsArray().Select(v => (double)v!));
            Assert.Equal(generations.Select(g => g.Average(l => (double)l["fitness"]!)).ToList(),
                stage["mean"]!.AsArray().Select(v => (double)v!).ToList(), (a, b) => Math.Abs(a - b) < 1e-12);
        }

        // The heatmap is the winner's recipe: models × groups values, per parameter.
        var winner = lines[(int)stages["ps"]["winner"]!];
        var recipe = winner["candidate"]!["recipe"]!;
        var heatmap = stages["ps"]["heatmap"]!;
        int models = recipe["models"]!.AsArray().Count, groups = recipe["groups"]!.AsArray().Count;
        Assert.Equal(2, models);
        Assert.Equal(3, groups);   // two layer groups and the embeddings' own group
        var values = heatmap["values"]!.AsArray();
        for (int p = 0; p < 2; p++)
            for (int m = 0; m < models; m++)
                for (int g = 0; g < groups; g++)
                    Assert.Equal((double)recipe["values"]![g]![m]![p]!, (double)values[p]![m]![g]!);

        // The DFS path is the one written to best-path.json.
        var bestPath = JsonNode.Parse(File.ReadAllText(Path.Combine(runs.Finished, "dfs", "best-path.json")))!;
        Assert.Equal(bestPath["steps"]!.ToJsonString(), stages["dfs"]["path"]!["steps"]!.ToJsonString());

        var downloads = run["downloads"]!.AsArray().Select(d => (string)d!["url"]!).ToList();
        Assert.Contains("/api/file/ps-recipe/finished", downloads);
        var client = factory.CreateClient();
        var response = await client.GetAsync("/api/file/ps-recipe/finished");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(File.ReadAllBytes(Path.Combine(runs.Finished, "ps", "best-recipe.yml")), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(Path.Combine(runs.Finished, "best-model"), (string)run["model_folder"]!);
        Assert.Equal(4, run["summary"]!["models"]!.AsArray().Count);
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task A_multi_objective_run_has_the_non_dominated_candidates_as_its_front()
    {
        using var factory = new DashboardFactory(runs.Root);
        var run = await Get(factory, "/api/runs/pareto");
        Assert.True((bool)run["multi_objective"]!);
        var lines = DashboardRuns.CompleteLines(Path.Combine(runs.Pareto, "journal.jsonl"));
        var scores = lines.Select((l, row) => (row, s: l["scores"]!.AsArray().Select(v => (double)v!).ToArray(), kind: (string)l["kind"]!))
            .Where(x => x.kind == "search").ToList();
        // Brute force: a candidate is on the front when no other is at least as good in both tasks and better in one.
        var front = scores.Where(a => !scores.Any(b => b.s[0] >= a.s[0] && b.s[1] >= a.s[1] && (b.s[0] > a.s[0] || b.s[1] > a.s[1])))
            .Select(a => a.row).ToList();
        Assert.NotEmpty(front);
        Assert.Equal(front, run["stages"]![0]!["pareto"]!.AsArray().Select(v => (int)v!));
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task A_run_killed_mid_line_shows_its_whole_lines_and_says_the_last_is_cut()
    {
        using var factory = new DashboardFactory(runs.Root);
        var run = await Get(factory, "/api/runs/killed");
        string journal = Path.Combine(runs.Killed, "journal.jsonl");
        Assert.Equal(File.ReadAllText(journal).Count(c => c == '\n'), (int)run["candidate_count"]!);
        Assert.Equal("failed", (string)run["status"]!);
        Assert.Contains(run["errors"]!.AsArray(), e => ((string)e!).Contains("last line is incomplete"));
        Assert.NotEmpty(run["stages"]!.AsArray());
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task A_malformed_config_is_reported_and_the_journal_still_shown()
    {
        using var factory = new DashboardFactory(runs.Root);
        var run = await Get(factory, "/api/runs/bad-config");
        var errors = run["errors"]!.AsArray().Select(e => (string)e!).ToList();
        Assert.Contains(errors, e => e.StartsWith(Path.Combine(runs.BadConfig, "config.json") + ": not a valid EvolutionConfig file"));
        Assert.Equal(DashboardRuns.CompleteLines(Path.Combine(runs.BadConfig, "journal.jsonl")).Count, (int)run["candidate_count"]!);
        Assert.NotEmpty(run["stages"]!.AsArray());
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task Hostile_journal_lines_and_summary_are_named_and_the_rest_is_shown()
    {
        string folder = Path.Combine(runs.Root, "hostile");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(runs.Pareto, "config.json"), Path.Combine(folder, "config.json"), overwrite: true);
        var lines = File.ReadAllLines(Path.Combine(runs.Pareto, "journal.jsonl"));
        var misshapen = JsonNode.Parse(lines[1])!;
        misshapen["candidate"]!["recipe"]!["values"]!.AsArray().RemoveAt(0);   // one group's values missing
        var nanFitness = JsonNode.Parse(lines[2])!;
        nanFitness["fitness"] = "NaN";
        File.WriteAllText(Path.Combine(folder, "journal.jsonl"), string.Join("\n",
            lines[0], "{}", "not json at all", misshapen.ToJsonString(), nanFitness.ToJsonString(), "[1,2,3]", lines[3][..40]));
        File.WriteAllText(Path.Combine(folder, "summary.json"), "{\"name\": \"x\", \"stages\": null, \"models\": null}");

        using var factory = new DashboardFactory(runs.Root);
        var run = await Get(factory, "/api/runs/hostile");
        var errors = run["errors"]!.AsArray().Select(e => (string)e!).ToList();
        string journal = Path.Combine(folder, "journal.jsonl");
        Assert.Equal(2, (int)run["candidate_count"]!);   // the first line and the NaN one
        Assert.Contains(errors, e => e.StartsWith($"{journal}: line 2: not a journal entry"));
        Assert.Contains(errors, e => e.StartsWith($"{journal}: line 3: not a journal entry"));
        Assert.Contains(errors, e => e.StartsWith($"{journal}: line 6: not a journal entry"));
        Assert.Contains(errors, e => e.Contains("PS recipe values are not 3 groups × 2 models × 1 parameters"));
        Assert.Contains(errors, e => e.StartsWith($"{Path.Combine(folder, "summary.json")}: not a valid EvolutionSummary file"));
        Assert.Contains(errors, e => e.Contains("last line is incomplete (40 bytes"));
        Assert.Equal("NaN", (string)run["candidates"]![1]!["fitness"]!);
        var listed = (await Get(factory, "/api/runs")).AsArray().Single(r => (string)r!["id"]! == "hostile")!;
        Assert.Equal("failed", (string)listed["status"]!);
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task Nothing_outside_the_runs_folder_is_served()
    {
        string outside = Path.Combine(Path.GetDirectoryName(runs.Root)!, "secret");
        Directory.CreateDirectory(outside);
        File.Copy(Path.Combine(runs.Finished, "config.json"), Path.Combine(outside, "config.json"), overwrite: true);
        File.WriteAllText(Path.Combine(outside, "journal.jsonl"), "");
        string link = Path.Combine(runs.Root, "linked");
        if (!Directory.Exists(link)) Directory.CreateSymbolicLink(link, outside);

        using var factory = new DashboardFactory(runs.Root);
        var client = factory.CreateClient();
        string[] attempts =
        [
            "/runs/..%2F..%2Fetc", "/runs/..%2F..%2Fetc%2Fpasswd", "/api/runs/..%2F..%2Fetc%2Fpasswd", "/api/runs/%2E%2E/secret",
            "/api/file/ps-recipe/..%2Fsecret", "/api/file/..%2F..%2Fconfig/finished", "/api/file/ps-recipe/linked",
            "/api/runs/linked", "/assets/..%2F..%2FEvoMerge.Dashboard.dll", "/api/events/..%2Fsecret", "/runs/%2Fetc%2Fpasswd",
        ];
        foreach (string url in attempts)
        {
            var response = await client.GetAsync(url);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{url}: {response.StatusCode}");
            Assert.DoesNotContain("root:", body);
            Assert.DoesNotContain("\"seed\"", body);
        }
        var ids = (await Get(factory, "/api/runs")).AsArray().Select(r => (string)r!["id"]!).ToList();
        Assert.DoesNotContain("linked", ids);
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task Reading_runs_changes_nothing_in_their_folders()
    {
        var before = Fingerprint();
        using var factory = new DashboardFactory(runs.Root);
        var client = factory.CreateClient();
        foreach (string id in new[] { "finished", "pareto", "killed", "bad-config" })
        {
            await Get(factory, "/api/runs/" + id);
            using var events = await client.GetAsync($"/api/events/{id}", HttpCompletionOption.ResponseHeadersRead);
        }
        await Get(factory, "/api/runs");
        await client.GetAsync("/api/file/ps-recipe/finished");
        Assert.Equal(before, Fingerprint());
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task The_event_stream_sends_a_line_appended_to_the_journal()
    {
        string id = "appended";
        string folder = Path.Combine(runs.Root, id);
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(runs.Pareto, "config.json"), Path.Combine(folder, "config.json"), overwrite: true);
        var lines = File.ReadAllLines(Path.Combine(runs.Pareto, "journal.jsonl"));
        File.WriteAllText(Path.Combine(folder, "journal.jsonl"), lines[0] + "\n");

        using var factory = new DashboardFactory(runs.Root);
        var client = factory.CreateClient();
        using var response = await client.GetAsync($"/api/events/{id}?from=1", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await NextUpdate(reader);
        Assert.Equal(1, (int)first["candidate_count"]!);
        Assert.Empty(first["candidates"]!.AsArray());

        // Half a line first (a write in progress), then the rest: one update with exactly that candidate.
        File.AppendAllText(Path.Combine(folder, "journal.jsonl"), lines[1][..10]);
        await Task.Delay(600);
        File.AppendAllText(Path.Combine(folder, "journal.jsonl"), lines[1][10..] + "\n");
        var next = await NextUpdate(reader);
        Assert.Equal(2, (int)next["candidate_count"]!);
        var added = Assert.Single(next["candidates"]!.AsArray());
        Assert.Equal(1, (int)added!["row"]!);
        Assert.Equal((double)JsonNode.Parse(lines[1])!["fitness"]!, (double)added["fitness"]!);
    }

    static async Task<JsonNode> NextUpdate(StreamReader reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? line, evt = null;
        while ((line = await reader.ReadLineAsync(timeout.Token)) is not null)
        {
            if (line.StartsWith("event: ")) evt = line[7..];
            else if (line.StartsWith("data: ") && evt == "update") return JsonNode.Parse(line[6..])!;
        }
        throw new EndOfStreamException("the event stream ended");
    }

    [SharedDataFact(StoriesExperts.Checkpoint)]
    public async Task A_cluster_run_has_its_workers_a_single_process_run_none_and_a_broken_workers_file_is_named()
    {
        runs.WriteWorkers(DashboardRuns.Workers(results: 5));   // as the fixture made it (the browser test rewrites it)
        using var factory = new DashboardFactory(runs.Root);
        var workers = (await Get(factory, "/api/runs/cluster"))["workers"]!;
        // What the driver wrote, read here as plain JSON.
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(runs.Cluster, "workers.json")))!;
        Assert.Equal((string)file["time"]!, (string)workers["time"]!);
        Assert.Equal((int)file["pending"]!, (int)workers["pending"]!);
        Assert.Equal((string)file["message"]!, (string)workers["message"]!);
        var rows = workers["workers"]!.AsArray();
        Assert.Equal(file["workers"]!.AsArray().Select(w => (string)w!["name"]!), rows.Select(w => (string)w!["name"]!));
        foreach (var (shown, written) in rows.Zip(file["workers"]!.AsArray()))
            foreach (var key in (string[])["state", "last_seen", "silo"])
                Assert.Equal((string)written![key]!, (string)shown![key]!);
        Assert.Equal(2, rows[0]!["work"]!.AsArray().Count);
        Assert.Equal(90.0 / 120, (double)rows[0]!["busy"]!, 12);

        Assert.Null((await Get(factory, "/api/runs/finished"))["workers"]);
        var broken = await Get(factory, "/api/runs/bad-workers");
        Assert.Null(broken["workers"]);
        Assert.Contains(broken["errors"]!.AsArray(), e => ((string)e!).StartsWith(Path.Combine(runs.Root, "bad-workers", "workers.json") + ": "));
        Assert.NotEmpty(broken["stages"]!.AsArray());   // the journal is still drawn
    }

    static async Task<JsonNode> Get(DashboardFactory factory, string url)
    {
        var response = await factory.CreateClient().GetAsync(url);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>Every file of the four fixed runs: path → write time and content hash.</summary>
    Dictionary<string, string> Fingerprint() => new[] { runs.Finished, runs.Pareto, runs.Killed, runs.BadConfig }
        .SelectMany(run => Directory.EnumerateFileSystemEntries(run, "*", SearchOption.AllDirectories).Append(run))
        .ToDictionary(p => p, p => File.Exists(p)
            ? $"{File.GetLastWriteTimeUtc(p):O} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))}"
            : $"dir {Directory.GetLastWriteTimeUtc(p):O}");
}
