namespace EvoMerge.Evaluation.Data;

/// <summary>Reading a task's data file with a clear error when it is missing.</summary>
static class DataFile
{
    public static IEnumerable<string> ReadLines(string path) => File.ReadLines(CheckExists(path));

    public static string ReadAllText(string path) => File.ReadAllText(CheckExists(path));

    static string CheckExists(string path) => File.Exists(path)
        ? path
        : throw new EvoMergeException($"data file '{path}' not found");
}
