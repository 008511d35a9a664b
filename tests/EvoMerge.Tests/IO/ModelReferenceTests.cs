using EvoMerge.IO;

namespace EvoMerge.Tests.IO;

/// <summary>Hugging Face ids resolved in a cache laid out as <c>huggingface-cli download</c> leaves it.</summary>
public class ModelReferenceTests
{
    const string Main = "0123456789abcdef0123456789abcdef01234567";
    const string Tagged = "fedcba9876543210fedcba9876543210fedcba98";

    static TempFolder Cache()
    {
        var hub = new TempFolder();
        string repo = Path.Combine(hub.Path, "models--org--tiny-model");
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), Main); // huggingface_hub writes no newline; tolerate one anyway
        File.WriteAllText(Path.Combine(repo, "refs", "v1"), Tagged + "\n");
        foreach (var commit in new[] { Main, Tagged }) Directory.CreateDirectory(Path.Combine(repo, "snapshots", commit));
        return hub;
    }

    [Theory]
    [InlineData("org/tiny-model", Main)]
    [InlineData("org/tiny-model@main", Main)]
    [InlineData("org/tiny-model@v1", Tagged)]
    [InlineData("org/tiny-model@" + Tagged, Tagged)]
    public void Resolves_ids_revisions_and_commits(string id, string commit)
    {
        using var hub = Cache();
        Assert.Equal(Path.Combine(hub.Path, "models--org--tiny-model", "snapshots", commit), ModelReference.Resolve(id, hub.Path));
    }

    [Fact]
    public void Uncached_model_says_so_and_that_nothing_is_downloaded()
    {
        using var hub = Cache();
        var e = Assert.Throws<EvoMergeException>(() => ModelReference.Resolve("org/other", hub.Path));
        Assert.Contains("neither a local path nor in the Hugging Face cache", e.Message);
        Assert.Contains("does not download", e.Message);
        Assert.Contains("huggingface-cli download org/other", e.Message);
    }

    [Fact]
    public void Uncached_revision_lists_the_cached_snapshots()
    {
        using var hub = Cache();
        var e = Assert.Throws<EvoMergeException>(() => ModelReference.Resolve("org/tiny-model@v2", hub.Path));
        Assert.Contains("revision 'v2' is not in the Hugging Face cache", e.Message);
        Assert.Contains(Main, e.Message);
    }

    [Fact]
    public void Revision_cannot_escape_the_cache()
    {
        using var hub = Cache();
        Assert.Contains("is not a valid revision", Assert.Throws<EvoMergeException>(() => ModelReference.Resolve("org/tiny-model@../../x", hub.Path)).Message);
    }

    [Fact]
    public void Local_paths_win_and_garbage_is_explained()
    {
        using var dir = new TempFolder();
        Assert.Equal(dir.Path, ModelReference.Resolve(dir.Path, "/nonexistent"));
        Assert.Contains("no such file or folder", Assert.Throws<EvoMergeException>(() => ModelReference.Resolve("./no/such/dir/x", "/nonexistent")).Message);
    }

    /// <summary>The hub cache stores files once under blobs/ and links them from each snapshot.</summary>
    [Fact]
    public void Snapshot_files_that_are_links_to_blobs_open()
    {
        using var hub = Cache();
        string repo = Path.Combine(hub.Path, "models--org--tiny-model");
        string blobs = Path.Combine(repo, "blobs");
        TinyModel.Write(blobs, maxShardBytes: long.MaxValue);
        string snapshot = Path.Combine(repo, "snapshots", Main);
        foreach (string file in Directory.GetFiles(blobs))
            File.CreateSymbolicLink(Path.Combine(snapshot, Path.GetFileName(file)), Path.Combine("..", "..", "blobs", Path.GetFileName(file)));
        using var model = ModelFolder.Open(ModelReference.Resolve("org/tiny-model", hub.Path));
        Assert.Equal("LlamaForCausalLM", model.Config!.Architecture);
        Assert.Equal(11, model.Weights.Tensors.Count);
        Assert.Equal(80 * 2, model.Weights.GetBytes("lm_head.weight").Length);
    }

    [Fact]
    public void A_cached_model_opens_as_a_model_folder()
    {
        using var hub = Cache();
        TinyModel.Write(Path.Combine(hub.Path, "models--org--tiny-model", "snapshots", Main));
        using var model = ModelFolder.Open(ModelReference.Resolve("org/tiny-model", hub.Path));
        Assert.Equal(2, model.LayerCount);
    }
}
