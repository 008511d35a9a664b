using System.Text.Json.Nodes;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Tests.Evolution;

/// <summary>
/// The run folder's <c>workers.json</c>: rewritten at most once per interval, always whole, the last status reported
/// always reaching it, and a failing write never failing the search. The file is read back as plain JSON.
/// </summary>
public class ClusterStatusFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-workers-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly DateTime T0 = new(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc);

    static ClusterStatus Status(int results, string? message = null) => new(T0.AddSeconds(results),
    [
        new WorkerStatus("gpu-0", "10.0.0.7:11111@1", 2, "busy", results, results / 2.0, 0.25, 30, 40, ["ab12", "cd34"], T0.AddSeconds(results - 1)),
        new WorkerStatus("gpu-1", "10.0.0.8:11111@1", 1, "dead", 3, 3, 0.1, 5, 0, [], T0),
    ], Pending: 4, Running: 2, message);

    static JsonNode Read(string path) => JsonNode.Parse(File.ReadAllText(path))!;

    [Fact]
    public void The_first_status_is_written_at_once_later_ones_wait_for_the_interval_and_the_last_is_written_on_dispose()
    {
        string path = Path.Combine(_dir, "run", "workers.json");
        var file = new ClusterStatusFile(path, TimeSpan.FromHours(1));
        file.Report(Status(1, "worker gpu-0 joined with 2 slot(s)"));
        var json = Read(path);
        Assert.Equal(1, file.Writes);
        // Snake case as every run-folder file; the busy share is 30 slot-seconds of 40; "last seen" one second before.
        Assert.Equal("2026-12-03T12:00:01Z", (string)json["time"]!);
        Assert.Equal("worker gpu-0 joined with 2 slot(s)", (string)json["message"]!);
        Assert.Equal(4, (int)json["pending"]!);
        var gpu0 = json["workers"]![0]!;
        Assert.Equal(["gpu-0", "busy", "ab12", "cd34"], [(string)gpu0["name"]!, (string)gpu0["state"]!, (string)gpu0["work"]![0]!, (string)gpu0["work"]![1]!]);
        Assert.Equal(0.75, (double)gpu0["busy"]!);
        Assert.Equal("2026-12-03T12:00:00Z", (string)gpu0["last_seen"]!);
        Assert.Equal(0.0, (double)json["workers"]![1]!["busy"]!);   // a worker known for no time was never idle either

        file.Report(Status(2));
        file.Report(Status(3));
        Assert.Equal(1, (int)Read(path)["workers"]![0]!["results"]!);   // within the interval: not yet
        file.Dispose();
        Assert.Equal(3, (int)Read(path)["workers"]![0]!["results"]!);
        Assert.Equal(2, file.Writes);
        file.Report(Status(4));   // after the run: ignored
        Assert.Equal(3, (int)Read(path)["workers"]![0]!["results"]!);
        Assert.Equal(["workers.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void A_status_held_back_by_the_interval_is_written_when_it_ends_without_another_report()
    {
        string path = Path.Combine(_dir, "workers.json");
        using var file = new ClusterStatusFile(path, TimeSpan.FromMilliseconds(300));
        file.Report(Status(1));
        file.Report(Status(2));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((int)Read(path)["workers"]![0]!["results"]! != 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the held-back status never reached the file");
            Thread.Sleep(20);
        }
        Assert.Equal(2, file.Writes);
    }

    [Fact]
    public async Task A_reader_never_sees_a_partial_file_while_it_is_rewritten()
    {
        string path = Path.Combine(_dir, "workers.json");
        using var file = new ClusterStatusFile(path, TimeSpan.Zero);
        file.Report(Status(0));
        using var stop = new CancellationTokenSource();
        int reads = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Parses, or throws and fails the test: a file written in place would be caught half written.
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                Assert.Equal(2, JsonNode.Parse(stream)!["workers"]!.AsArray().Count);
                reads++;
            }
        });
        for (int i = 1; i <= 300; i++) file.Report(Status(i, new string('x', i * 50)));
        stop.Cancel();
        await reader;
        Assert.Equal(301, file.Writes);
        Assert.True(reads > 0);
    }

    [Fact]
    public void A_file_that_cannot_be_written_stops_the_writing_not_the_caller()
    {
        File.WriteAllText(Path.Combine(_dir, "blocker"), "a file where the run folder should be");
        string path = Path.Combine(_dir, "blocker", "workers.json");
        using var file = new ClusterStatusFile(path, TimeSpan.Zero);
        file.Report(Status(1));
        file.Report(Status(2));
        Assert.Equal(0, file.Writes);
        Assert.StartsWith($"{path}: the workers' status could not be written", file.Failure);
    }

    [Fact]
    public void The_run_folder_names_the_file()
    {
        var folder = new RunFolder(_dir);
        Assert.Equal(Path.Combine(_dir, "workers.json"), folder.WorkersFile);
        using var file = new ClusterStatusFile(folder);
        Assert.Equal(folder.WorkersFile, file.Path);
    }
}
