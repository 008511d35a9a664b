using EvoMerge.Cli;

return CliApp.Run(args);
