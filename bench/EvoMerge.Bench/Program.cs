using System.Reflection;
using EvoMerge.Bench;

// Each benchmark is a class implementing IBenchmark; `dotnet run --project bench/EvoMerge.Bench -c Release -- <name> [args]`.
var benchmarks = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && !t.IsAbstract)
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name)
    .ToList();
var chosen = args.Length > 0 ? benchmarks.FirstOrDefault(b => b.Name == args[0]) : null;
if (chosen == null)
{
    Console.Error.WriteLine("usage: EvoMerge.Bench <benchmark> [args]\nbenchmarks:");
    foreach (var b in benchmarks) Console.Error.WriteLine($"  {b.Name,-16} {b.Description}");
    return 1;
}
try
{
    chosen.Run(args[1..]);
}
catch (EvoMerge.EvoMergeException e) // a refusal (bad option, too little disk): its one line, not a stack trace
{
    Console.Error.WriteLine($"{chosen.Name}: {e.Message}");
    return 1;
}
return 0;
