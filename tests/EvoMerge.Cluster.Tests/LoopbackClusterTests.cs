using System.Text.Json.Nodes;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// The acceptance runs with real processes: Redis membership on loopback, 3 workers (1 thread each) on the demo
/// models, one SIGKILLed mid-run; then a driver SIGKILLed and resumed. Each journal must equal the single-process
/// journal of the same config, genome for genome and score for score, with every candidate journaled once.
/// </summary>
[Collection("cluster")]
public class LoopbackClusterTests(LoopbackCluster loopback, PostgresServer postgres) : IClassFixture<LoopbackCluster>, IClassFixture<PostgresServer>
{
    [RedisFact]
    public void Three_workers_one_killed_give_the_single_process_journal()
    {
        var expected = loopback.SingleProcessJournal();
        string id = "kill-worker-" + Guid.NewGuid().ToString("N")[..8];
        var workers = Enumerable.Range(0, 3).Select(i => loopback.Worker(id, $"w{i}")).ToList();
        foreach (var worker in workers) loopback.Joined(worker);   // a slow machine must not kill w1 before it exists
        string run = Path.Combine(loopback.Root, "cluster");
        using var driver = loopback.Evolve(run, "--cluster", loopback.Spec, "--cluster-id", id);

        // Kill w1 once the driver has seen it and the run is under way, so its table has a row for w1.
        WaitUntil(() => LoopbackCluster.JournalLines(run) >= 3 && loopback.Log(driver).Contains("worker w1 "), driver, loopback);
        workers[1].Kill();   // SIGKILL: the worker's running candidate is lost with it
        loopback.Finish(driver, "cluster evolve");

        var journal = LoopbackCluster.Untimed(run);
        Assert.Equal(expected, journal);
        Assert.Equal(journal.Count, journal.Select(Place).Distinct().Count());
        // The driver's worker table: w1 is dead, or still suspect when the run ended before membership declared it
        // dead (~6 s of missed probes; a loaded machine finishes the run first).
        string log = loopback.Log(driver);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(log, @"│ w1 +│ (dead|suspect) +│"), log);
        // Results used, in candidates (a part of a candidate cut in m counts 1/m), summed over the workers, equal the
        // candidates evaluated: the lost one counted once.
        double used = System.Text.RegularExpressions.Regex.Matches(log, @"│ w\d +│ \w+ +│ +\d+ │ +\d+ │ +([\d.]+) │")
            .Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Sum();
        Assert.Equal(journal.Count(line => JsonNode.Parse(line)!["cached"]!.GetValue<bool>() == false), used, 0.05);
        // The same in the run folder's workers.json, for the dashboard: w1 dead (or suspect), scoring nothing.
        var w1 = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "workers.json")))!["workers"]!.AsArray().Single(r => (string)r!["name"]! == "w1")!;
        Assert.Matches("^(dead|suspect)$", (string)w1["state"]!);
        Assert.Empty(w1["work"]!.AsArray());
    }

    [RedisFact]
    public void A_driver_killed_and_resumed_gives_the_single_process_journal()
    {
        var expected = loopback.SingleProcessJournal();
        string id = "kill-driver-" + Guid.NewGuid().ToString("N")[..8];
        for (int i = 0; i < 2; i++) loopback.Worker(id, $"r{i}");
        string run = Path.Combine(loopback.Root, "resumed");
        using (var driver = loopback.Evolve(run, "--cluster", loopback.Spec, "--cluster-id", id))
        {
            WaitUntil(() => LoopbackCluster.JournalLines(run) >= 8, driver, loopback);
            driver.Kill();
            driver.WaitForExit();
        }
        int kept = LoopbackCluster.JournalLines(run);
        Assert.InRange(kept, 8, expected.Count - 1);
        using var resumed = loopback.Evolve(run, "--cluster", loopback.Spec, "--cluster-id", id, "--resume");
        loopback.Finish(resumed, "resumed evolve");

        Assert.Equal(expected, LoopbackCluster.Untimed(run));
    }

    [Fact]
    public void Two_workers_on_localhost_clustering_give_the_single_process_journal()
    {
        var expected = loopback.SingleProcessJournal();
        var first = loopback.Worker("evomerge", "l0", "localhost");
        loopback.Joined(first);   // the primary silo (ports 11111/30000)
        loopback.Joined(loopback.Worker("evomerge", "l1", "localhost"));
        string run = Path.Combine(loopback.Root, "localhost");
        using var driver = loopback.Evolve(run, "--cluster", "localhost");
        loopback.Finish(driver, "localhost evolve");

        Assert.Equal(expected, LoopbackCluster.Untimed(run));
        string log = loopback.Log(driver);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(log, @"│ l1 +│ idle +│ +1 │ +[1-9]"), log);   // both workers delivered
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(log, @"│ l0 +│ idle +│ +1 │ +[1-9]"), log);
        // The run folder's workers.json (the dashboard's workers table), read as plain JSON: both workers, idle at the
        // end, their results adding up to the candidates scored.
        var status = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "workers.json")))!;
        var rows = status["workers"]!.AsArray();
        Assert.Equal(["l0", "l1"], rows.Select(r => (string)r!["name"]!).Order());
        Assert.All(rows, r => Assert.Equal("idle", (string)r!["state"]!));
        Assert.Equal(expected.Count(line => JsonNode.Parse(line)!["cached"]!.GetValue<bool>() == false), rows.Sum(r => (double)r!["candidates"]!), 0.05);
    }

    [RedisFact]
    public void M2n2_with_each_child_cut_over_three_workers_gives_the_single_process_journal()
    {
        string config = loopback.WriteM2n2Config();
        string single = Path.Combine(loopback.Root, "m2n2-single");
        using (var p = loopback.EvolveWith(config, single, "--batch-size", "4")) loopback.Finish(p, "single-process m2n2");
        string id = "m2n2-" + Guid.NewGuid().ToString("N")[..8];
        var workers = Enumerable.Range(0, 3).Select(i => loopback.Worker(id, $"m{i}", null, "--batch-size", "4")).ToList();
        foreach (var worker in workers) loopback.Joined(worker);
        string run = Path.Combine(loopback.Root, "m2n2-cluster");
        using var driver = loopback.EvolveWith(config, run, "--cluster", loopback.Spec, "--cluster-id", id, "--batch-size", "4");
        loopback.Finish(driver, "cluster m2n2");

        Assert.Equal(LoopbackCluster.Untimed(single), LoopbackCluster.Untimed(run));
        // The worker table: more results than candidates, because children were scored in parts.
        string log = loopback.Log(driver);
        var rows = System.Text.RegularExpressions.Regex.Matches(log, @"│ m\d +│ \w+ +│ +\d+ │ +(\d+) │ +([\d.]+) │");
        Assert.True(rows.Sum(m => int.Parse(m.Groups[1].Value)) > rows.Sum(m => double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)) + 0.5, log);
    }

    [PostgresFact]
    public void Three_workers_with_postgres_membership_one_killed_give_the_single_process_journal()
    {
        var expected = loopback.SingleProcessJournal();
        string id = "pg-" + Guid.NewGuid().ToString("N")[..8];
        var workers = Enumerable.Range(0, 3).Select(i => loopback.Worker(id, $"p{i}", postgres.Url)).ToList();
        foreach (var worker in workers) loopback.Joined(worker);
        Assert.Equal(3, Members(id, status: 3));   // three active silos in the table
        string run = Path.Combine(loopback.Root, "postgres");
        using var driver = loopback.Evolve(run, "--cluster", postgres.Url, "--cluster-id", id);
        WaitUntil(() => LoopbackCluster.JournalLines(run) >= 3 && loopback.Log(driver).Contains("worker p1 "), driver, loopback);
        workers[1].Kill();
        loopback.Finish(driver, "cluster evolve on postgres membership");

        Assert.Equal(expected, LoopbackCluster.Untimed(run));
        // The survivors vote the killed silo dead through the versioned update; it stays in the table as dead.
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (Members(id, status: 6) == 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no silo of {id} was declared dead in PostgreSQL");
            Thread.Sleep(100);
        }
        Assert.Equal(2, Members(id, status: 3));
    }

    int Members(string clusterId, int status)
    {
        using var connection = new Npgsql.NpgsqlConnection(Membership.PostgresMembership.ConnectionString(postgres.Url));
        connection.Open();
        using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM evomerge_membership WHERE DeploymentId = @id AND Status = @status", connection);
        command.Parameters.AddWithValue("id", clusterId);
        command.Parameters.AddWithValue("status", status);
        return Convert.ToInt32(command.ExecuteScalar());
    }

    static string Place(string line)
    {
        var e = JsonNode.Parse(line)!;
        return $"{e["stage"]}/{e["kind"]}/{e["generation"]}/{e["index"]}";
    }

    static void WaitUntil(Func<bool> condition, System.Diagnostics.Process driver, LoopbackCluster loopback)
    {
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (!condition())
        {
            if (driver.HasExited) throw new InvalidOperationException($"the driver ended before the test could act:\n{loopback.Log(driver)}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited 4 minutes:\n{loopback.Log(driver)}");
            Thread.Sleep(20);
        }
    }
}

/// <summary>Skips with the install command when Debian's redis-server is missing (.ci/run installs it).</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (LoopbackCluster.RedisServer is null) Skip = "redis-server is not installed (apt-get install redis-server; .ci/run does)";
    }
}
