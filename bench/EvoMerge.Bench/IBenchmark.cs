namespace EvoMerge.Bench;

/// <summary>A timed harness that prints a table of measurements taken side by side in one run.</summary>
public interface IBenchmark
{
    string Name { get; }
    string Description { get; }
    void Run(string[] args);
}
