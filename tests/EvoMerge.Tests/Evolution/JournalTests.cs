using EvoMerge.Candidates;
using EvoMerge.Evolution.Run;
using EvoMerge.Evolution.Spaces;

namespace EvoMerge.Tests.Evolution;

public class JournalTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("evo-journal-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static JournalEntry Entry(int index) => new("ps", EntryKinds.Search, 0, index, null, [0.1 * index, 1.0 / 3], "h" + index,
        new SourceBuild("m"), 7, [0.5], 0.5, 0.01, 0.2, false);

    [Fact]
    public void Entries_round_trip_exactly_and_a_partial_last_line_from_a_kill_is_cut_off()
    {
        string path = Path.Combine(_dir, "journal.jsonl");
        using (var journal = Journal.Open(path))
        {
            journal.Append(Entry(0));
            journal.Append(Entry(1));
        }
        long whole = new FileInfo(path).Length;
        File.AppendAllText(path, "{\"stage\":\"ps\",\"kind\":\"sea");   // killed in the middle of a write

        using (var journal = Journal.Open(path))
        {
            Assert.Equal(2, journal.Entries.Count);
            Assert.Equal(whole, new FileInfo(path).Length);
            var second = journal.Find("ps", EntryKinds.Search, 0, 1)!;
            Assert.Equal(1.0 / 3, second.Genome![1]);   // doubles survive the text round trip bit for bit
            Assert.Equal(new SourceBuild("m"), second.Candidate);
            journal.Append(Entry(2));
        }
        Assert.Equal(3, Journal.Read(path).Count);
    }

    [Fact]
    public void A_damaged_line_in_the_middle_names_the_file_and_line()
    {
        string path = Path.Combine(_dir, "journal.jsonl");
        File.WriteAllText(path, "not json\n");
        var e = Assert.Throws<EvoMergeException>(() => Journal.Read(path));
        Assert.Contains("journal.jsonl: line 1", e.Message);
    }
}
