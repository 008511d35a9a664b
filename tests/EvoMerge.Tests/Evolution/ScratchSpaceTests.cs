using System.Diagnostics;
using EvoMerge.Evolution.External;
using EvoMerge.Tests.Evaluation.External;

namespace EvoMerge.Tests.Evolution;

/// <summary>What a run killed with kill -9 leaves in its scratch folder is cleaned up by the next run on the same root.</summary>
public class ScratchSpaceTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("evo-scratch-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    static int DeadPid()
    {
        using var p = Process.Start(new ProcessStartInfo("true"))!;
        p.WaitForExit();
        return p.Id;
    }

    static Process Sleeper() => Process.Start(new ProcessStartInfo("sleep", "600"))!;

    [Fact]
    public void A_dead_runs_folder_is_removed_and_the_scorer_it_recorded_is_killed()
    {
        string stale = Path.Combine(_root, ScratchSpace.Prefix + DeadPid());
        Directory.CreateDirectory(Path.Combine(stale, "3", "model"));
        using var orphan = Sleeper();
        new CandidateFolder(Path.Combine(stale, "3")).Record(orphan);

        using (var scratch = new ScratchSpace(_root))
        {
            Assert.True(Directory.Exists(stale), "nothing happens before a candidate needs scratch");
            using var candidate = scratch.NewCandidate();
            Assert.False(Directory.Exists(stale));
            Assert.True(ScorerProcessTests.Gone(orphan.Id), "the orphaned scorer still runs");
            Assert.StartsWith(Path.Combine(_root, ScratchSpace.Prefix + Environment.ProcessId), candidate.Root);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public void A_recorded_id_now_held_by_another_process_is_not_killed()
    {
        string stale = Path.Combine(_root, ScratchSpace.Prefix + DeadPid());
        Directory.CreateDirectory(Path.Combine(stale, "1"));
        using var unrelated = Sleeper();
        try
        {
            // Same id, another start time: the process that had the id is gone and this one got it.
            File.WriteAllText(Path.Combine(stale, "1", "scorer.pid"), $"{unrelated.Id} 1");
            using (var scratch = new ScratchSpace(_root)) scratch.NewCandidate().Dispose();
            Assert.False(Directory.Exists(stale));
            Assert.False(unrelated.WaitForExit(200), "a process that was not the recorded scorer was killed");
        }
        finally { unrelated.Kill(); }
    }

    [Fact]
    public void A_live_runs_folder_is_left_alone()
    {
        using var live = Sleeper();
        try
        {
            string other = Path.Combine(_root, ScratchSpace.Prefix + live.Id, "1");
            Directory.CreateDirectory(other);
            using (var scratch = new ScratchSpace(_root)) scratch.NewCandidate().Dispose();
            Assert.True(Directory.Exists(other));
        }
        finally { live.Kill(); }
    }
}
