using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

/// <summary>Output folders (issue 10 items 1, 2 and 8): all or nothing, never into an input, never over anything else's files.</summary>
public class OutputFolderTests
{
    [Fact]
    public void A_complete_write_appears_under_the_final_name_only()
    {
        using var dir = new TempFolder();
        string target = dir.File("merged");
        OutputFolder.Write(target, partial =>
        {
            Assert.StartsWith(target + OutputFolder.PartialInfix, partial);
            Assert.False(Directory.Exists(target));
            TinyModel.Write(partial);
        });
        Assert.Equal(["merged"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
        using var model = ModelFolder.Open(target);
        Assert.Equal(2, model.LayerCount);
    }

    [Fact]
    public void A_failed_write_leaves_nothing()
    {
        using var dir = new TempFolder();
        Assert.Throws<InvalidOperationException>(() => OutputFolder.Write(dir.File("merged"), partial =>
        {
            File.WriteAllText(Path.Combine(partial, "config.json"), "{}");
            throw new InvalidOperationException("merge failed");
        }));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void A_folder_with_content_is_never_overwritten()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("keep.txt"), "x");
        var e = Assert.Throws<EvoMergeException>(() => OutputFolder.Write(dir.Path, _ => { }));
        Assert.Contains("already exists and is not empty", e.Message);
        Assert.True(File.Exists(dir.File("keep.txt")));
    }

    [Fact]
    public void A_users_folder_named_like_the_old_partial_folder_is_never_touched()
    {
        // Item 1: `merge R X` used to delete X.partial recursively, whoever it belonged to.
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("out.partial"));
        File.WriteAllText(dir.File("out.partial/model.safetensors"), "the user's");
        File.WriteAllText(dir.File("out.partial.txt"), "a file");
        OutputFolder.Write(dir.File("out"), partial => File.WriteAllText(Path.Combine(partial, "a"), "1"));
        Assert.Equal("the user's", File.ReadAllText(dir.File("out.partial/model.safetensors")));
        Assert.Equal("a file", File.ReadAllText(dir.File("out.partial.txt")));
        // A failed run also deletes only its own partial folder.
        Assert.Throws<InvalidOperationException>(() => OutputFolder.Write(dir.File("out2"), _ => throw new InvalidOperationException()));
        Assert.Equal(["out", "out.partial", "out.partial.txt"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData("m1", "is the input")]
    [InlineData("m1/merged", "is inside the input")]
    [InlineData("m1/sub/deeper", "is inside the input")]
    [InlineData("link-to-m1/merged", "is inside the input")]
    [InlineData("link-to-m1", "is the input")]
    public void An_output_equal_to_or_inside_an_input_is_refused_before_any_work(string output, string expected)
    {
        // Item 2: only the exact path used to be refused; now also inside it, and after resolving symbolic links.
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("m1"));
        File.CreateSymbolicLink(dir.File("link-to-m1"), dir.File("m1"));
        bool called = false;
        var e = Assert.Throws<EvoMergeException>(() => OutputFolder.Write(dir.File(output), _ => called = true, [dir.File("m1")]));
        Assert.Contains(expected, e.Message);
        Assert.False(called);
        Assert.Empty(Directory.GetFileSystemEntries(dir.File("m1")));
    }

    [Fact]
    public void An_input_reached_through_a_symbolic_link_is_protected_too()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("real"));
        File.CreateSymbolicLink(dir.File("alias"), dir.File("real"));
        var e = Assert.Throws<EvoMergeException>(() => OutputFolder.Write(dir.File("real/out"), _ => { }, [dir.File("alias")]));
        Assert.Contains("is inside the input", e.Message);
    }

    [Fact]
    public void An_output_that_is_a_file_is_refused_before_any_work()
    {
        // Item 8: an out-dir that is an existing file (or the recipe) was reported only after the whole merge ran.
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("recipe.yml"), "x");
        bool called = false;
        var e = Assert.Throws<EvoMergeException>(() => OutputFolder.Write(dir.File("recipe.yml"), _ => called = true));
        Assert.Contains("recipe.yml: is a file", e.Message);
        Assert.False(called);
        Assert.Equal("x", File.ReadAllText(dir.File("recipe.yml")));
    }

    [Fact]
    public void A_300_character_name_is_a_clean_error()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<EvoMergeException>(() => OutputFolder.Write(dir.File(new string('n', 300)), _ => { }));
        Assert.Contains("300 bytes long; at most 200", e.Message);
    }

    [Fact]
    public void A_folder_that_cannot_be_created_is_a_clean_error()
    {
        // Item 8: a read-only file system. /proc is read-only for everyone, root included.
        var e = Assert.Throws<EvoMergeException>(() => OutputFolder.Write("/proc/evomerge-out", _ => { }));
        Assert.Contains("/proc/evomerge-out: cannot create a folder in /proc", e.Message);
    }

    [Fact]
    public void Leftovers_of_killed_runs_are_listed_and_never_touched()
    {
        using var dir = new TempFolder();
        // A pid above the kernel's maximum (4194304) never runs; our own pid does.
        string dead = dir.File("out" + OutputFolder.PartialInfix + "99999999-0123456789ab");
        string alive = dir.File("out" + OutputFolder.PartialInfix + Environment.ProcessId + "-0123456789ab");
        Directory.CreateDirectory(dead);
        Directory.CreateDirectory(alive);
        File.WriteAllText(dir.File("out.partial"), "a user's file of the old partial name");
        Assert.Equal([dead], OutputFolder.StalePartials(dir.File("out")));
        OutputFolder.Write(dir.File("out"), partial => File.WriteAllText(Path.Combine(partial, "a"), "1"));
        Assert.True(Directory.Exists(dead) && Directory.Exists(alive));
        Assert.Equal("a user's file of the old partial name", File.ReadAllText(dir.File("out.partial")));
    }

    [Fact]
    public void An_empty_folder_made_for_the_output_is_used()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("out"));
        OutputFolder.Write(dir.File("out"), partial => File.WriteAllText(Path.Combine(partial, "a"), "1"));
        Assert.Equal("1", File.ReadAllText(dir.File("out/a")));
    }

    [Fact]
    public void Concurrent_writers_into_one_folder_exactly_one_wins_with_only_its_own_files()
    {
        // Item 1's race: 2-4 writers started together, 25 rounds. The winner's folder holds exactly its own files;
        // every loser fails with the project's error, and no partial folder is left behind.
        using var dir = new TempFolder();
        var random = new Random(10);
        for (int round = 0; round < 25; round++)
        {
            int writers = random.Next(2, 5);
            string target = dir.File($"out{round}");
            using var start = new Barrier(writers);
            var outcomes = new Exception?[writers];
            var threads = Enumerable.Range(0, writers).Select(w => new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    OutputFolder.Write(target, partial =>
                    {
                        for (int f = 0; f < 5; f++) File.WriteAllText(Path.Combine(partial, $"w{w}-{f}"), $"{w}");
                        File.WriteAllText(Path.Combine(partial, "owner"), $"{w}");
                    });
                }
                catch (Exception e) { outcomes[w] = e; }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            int winner = Assert.Single(Enumerable.Range(0, writers), w => outcomes[w] == null);
            foreach (var e in outcomes.Where(e => e != null))
                Assert.Matches("was created by someone else while this run wrote|already exists and is not empty", Assert.IsType<EvoMergeException>(e).Message);
            Assert.Equal($"{winner}", File.ReadAllText(Path.Combine(target, "owner")));
            Assert.Equal(6, Directory.GetFiles(target).Length);
            Assert.All(Directory.GetFiles(target).Select(Path.GetFileName), name => Assert.True(name == "owner" || name!.StartsWith($"w{winner}-")));
        }
        Assert.Equal(25, Directory.GetFileSystemEntries(dir.Path).Length);
    }
}
