using System.Diagnostics;
using System.Text.Json;
using EvoMerge.Candidates;
using EvoMerge.Evolution.Run;
using EvoMerge.Reporting;

namespace EvoMerge.Tests.Reporting;

/// <summary>Following a journal that a run appends to: whole lines only, bad lines reported, a replaced file read again.</summary>
public class JournalTailTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-tail-").FullName;
    string Journal => Path.Combine(_dir, "journal.jsonl");

    static string Line(int index, double fitness) => JsonSerializer.Serialize(new JournalEntry("ps", EntryKinds.Search, 0, index, null, [0.5],
        "h", new SourceBuild("m"), null, [fitness], fitness, 0.1, 0.2, false), RunJson.Options) + "\n";

    [Fact]
    public void Only_lines_with_their_newline_are_read_and_each_once()
    {
        var tail = new JournalTail(Journal);
        Assert.Empty(tail.Read(out _));   // no file yet

        string second = Line(1, -2);
        File.WriteAllText(Journal, Line(0, -1) + second[..20]);
        Assert.Equal([-1.0], tail.Read(out bool restarted).Select(e => e.Fitness));
        Assert.False(restarted);
        Assert.Equal(20, tail.PartialBytes);

        File.AppendAllText(Journal, second[20..] + Line(2, -3));
        Assert.Equal([-2.0, -3.0], tail.Read(out _).Select(e => e.Fitness));
        Assert.Equal(0, tail.PartialBytes);
        Assert.Empty(tail.Read(out _));
    }

    [Fact]
    public void A_line_that_is_not_an_entry_is_skipped_and_named()
    {
        File.WriteAllText(Journal, Line(0, -1) + "{\"stage\":\"ps\"}\nnot json\n" + Line(1, -2));
        var tail = new JournalTail(Journal);
        Assert.Equal([-1.0, -2.0], tail.Read(out _).Select(e => e.Fitness));
        Assert.Equal(2, tail.Errors.Count);
        Assert.StartsWith($"{Journal}: line 2: not a journal entry", tail.Errors[0]);
        Assert.StartsWith($"{Journal}: line 3: not a journal entry", tail.Errors[1]);
    }

    [Fact]
    public void A_shorter_file_is_a_new_run_read_from_its_start()
    {
        File.WriteAllText(Journal, Line(0, -1) + Line(1, -2));
        var tail = new JournalTail(Journal);
        Assert.Equal(2, tail.Read(out _).Count);
        File.WriteAllText(Journal, Line(0, -7));
        Assert.Equal([-7.0], tail.Read(out bool restarted).Select(e => e.Fitness));
        Assert.True(restarted);
    }

    [Fact]
    public async Task A_fifo_in_place_of_the_journal_is_never_opened()
    {
        using (var mkfifo = Process.Start("mkfifo", Journal)) await mkfifo.WaitForExitAsync();
        var read = Task.Run(() => new JournalTail(Journal).Read(out _));
        Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30))));
        Assert.Empty(await read);
    }

    public void Dispose() => Directory.Delete(_dir, true);
}
