using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

public class OutputFolderTests
{
    [Fact]
    public void A_complete_write_appears_under_the_final_name_only()
    {
        using var dir = new TempFolder();
        string target = dir.File("merged");
        OutputFolder.Write(target, partial =>
        {
            Assert.Equal(target + ".partial", partial);
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
}
