using EvoMerge.TestSupport;

namespace EvoMerge.Torch.Tests.Cli;

/// <summary>
/// With stdout a pipe, tables print whole at their natural width (no row split over lines, no colour codes) and
/// progress goes to stderr as whole lines: <c>inspect</c> here, <c>demo --quick</c> in EvoMerge.Demo.Tests' DemoEndToEndTests.
/// </summary>
public class PipeOutputTests
{
    [Fact]
    public void InspectPrintsWholeTablesIntoAPipe()
    {
        // A folder path longer than a terminal is wide: its table row must stay one line, not wrap at 80 columns.
        string folder = Path.Combine(Directory.CreateTempSubdirectory("pipe-").FullName, "a-model-folder-with-a-name-long-enough-to-need-more-than-eighty-columns");
        try
        {
            Directory.CreateDirectory(folder);
            foreach (string file in Directory.GetFiles(Path.Combine(SharedData.RepoRoot, "demo", "models", "base")))
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            var (code, stdout, stderr) = CliProcess.Run("inspect", folder);
            Assert.True(code == 0, stderr);
            PipeText.AssertTablesWhole(stdout, minTables: 3);
            Assert.Contains(stdout.Split('\n'), l => l.Length > 100 && l.Contains(folder));
        }
        finally { Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true); }
    }
}
