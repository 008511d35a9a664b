using EvoMerge.Cli.Commands;
using EvoMerge.Cli.Demo;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EvoMerge.Cli;

/// <summary>
/// The verbs of <c>evomerge</c>. Errors the user can fix (<see cref="EvoMergeException"/>) print one line and exit 1;
/// anything else is a bug and prints its stack trace only with <c>--verbose</c>.
/// </summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        bool verbose = args.Contains("--verbose");
        CliConsoles.Configure();
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("evomerge");
            config.PropagateExceptions();
            config.SetInterceptor(new UnknownOptions());
            config.AddBranch("demo", demo =>
            {
                demo.SetDescription("Run the built-in miniature EvoLLM-JP demo end to end.");
                demo.SetDefaultCommand<DemoCommand>();
                demo.AddBranch("train", train =>
                {
                    train.SetDescription("Regenerate the demo's shipped models (base, ja, math, joint) from a seed.");
                    train.SetDefaultCommand<DemoTrainCommand>();
                    train.AddCommand<DemoTrainVlmCommand>("vlm")
                        .WithDescription("Train the VLM demo's model V (tiny ViT + projector + the demo base LM) into demo/models/vlm.");
                    train.AddCommand<DiffusionTrainCommand>("diffusion")
                        .WithDescription("Regenerate the diffusion demo's models (base, ja, lightning, judge) from a seed.");
                });
                demo.AddBranch("replicate", replicate =>
                {
                    replicate.SetDescription("Train N worlds from N seeds, run the demo on each, and print the table with 95% intervals.");
                    replicate.SetDefaultCommand<DemoReplicateCommand>();
                    replicate.AddCommand<DiffusionReplicateCommand>("diffusion")
                        .WithDescription("The same for the diffusion demo: N diffusion worlds, the demo on each, pooled intervals.");
                });
                demo.AddCommand<DemoVlmCommand>("vlm")
                    .WithDescription("Run the miniature EvoVLM-JP: V (sees), A (Japanese), merges and evolved merges on Japanese VQA.");
                demo.AddCommand<DiffusionDemoCommand>("diffusion")
                    .WithDescription("Run the miniature EvoSDXL-JP: merge a Japanese and a 4-step English diffusion model by evolution.");
            });
            config.AddCommand<InspectCommand>("inspect")
                .WithDescription("Show a model's architecture, parameters, dtypes, shards and per-layer tensors.");
            config.AddCommand<CheckCommand>("check")
                .WithDescription("Validate a mergekit recipe against the models' headers, without reading tensor data.");
            config.AddCommand<MergeCommand>("merge")
                .WithDescription("Run a mergekit recipe and write the merged model folder.");
            config.AddCommand<ExtractLoraCommand>("extract-lora")
                .WithDescription("Extract a PEFT LoRA adapter from a fine-tune's difference to its base.");
            config.AddCommand<MoeCommand>("moe")
                .WithDescription("Build a Mixtral mixture of experts from dense models (mergekit-moe config).");
            config.AddBranch("import", import =>
            {
                import.SetDescription("Convert a model from another format into a Hugging Face folder.");
                import.AddCommand<ImportLlama2cCommand>("llama2c")
                    .WithDescription("Import a llama2.c checkpoint and its tokenizer.");
            });
            config.AddBranch("export", export =>
            {
                export.SetDescription("Write a model in another format.");
                export.AddCommand<ExportGgufCommand>("gguf")
                    .WithDescription("Export a model folder to GGUF for llama.cpp / Ollama.");
            });
            config.AddCommand<GenerateCommand>("generate")
                .WithDescription("Generate text from a prompt.");
            config.AddCommand<EvalCommand>("eval")
                .WithDescription("Score a model on a task and write every item to JSONL.");
            config.AddCommand<EvolveCommand>("evolve")
                .WithDescription("Search for the best merge recipe by evolution (--cluster: on the workers of a cluster).");
            config.AddCommand<WorkerCommand>("worker")
                .WithDescription("Join an Orleans cluster as a worker and score candidates that drivers send.");
            config.AddCommand<ReportCommand>("report")
                .WithDescription("Render the HTML/PNG report of an evolution run.");
            config.AddCommand<DashboardCommand>("dashboard")
                .WithDescription("Serve a live dashboard of the evolution runs under a folder (127.0.0.1:8080).");
        });
        try
        {
            return app.Run(args.Where(a => a != "--verbose"));
        }
        catch (Exception e) when (e is EvoMergeException or CommandParseException or CommandRuntimeException)
        {
            AnsiConsole.Console.Profile.Out.Writer.Flush();
            Console.Error.WriteLine($"error: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            else Console.Error.WriteLine("(run with --verbose for the stack trace)");
            return 2;
        }
    }
}
