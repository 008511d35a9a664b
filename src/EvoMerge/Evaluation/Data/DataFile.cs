using EvoMerge.IO;
namespace EvoMerge.Evaluation.Data;

/// <summary>Reading a task's data file: a regular file of at most 1 GiB, with a clear error when it is missing.</summary>
static class DataFile
{
    public static IEnumerable<string> ReadLines(string path) => InputFile.ReadLines(CheckExists(path), InputFile.LargeFileBytes, "data file");

    public static string ReadAllText(string path) => InputFile.ReadAllText(CheckExists(path), InputFile.LargeFileBytes, "data file");

    static string CheckExists(string path) => InputFile.Exists(path)
        ? path
        : throw new EvoMergeException($"data file '{path}' not found");
}
