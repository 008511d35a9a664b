using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace EvoMerge.Dashboard;

/// <summary>
/// The page, its script and its style, compiled into this assembly (wwwroot/): the dashboard needs no files beside
/// it and loads nothing from the internet. Only these names are served; nothing is looked up on disk.
/// </summary>
static class EmbeddedAssets
{
    static readonly Dictionary<string, (byte[] Bytes, string Type)> Files = Load();

    public static IResult Page() => Results.Bytes(Files["index.html"].Bytes, "text/html; charset=utf-8");

    public static IResult Asset(string name) => name != "index.html" && Files.TryGetValue(name, out var file)
        ? Results.Bytes(file.Bytes, file.Type)
        : Results.Json(new { error = $"no asset '{name}'" }, statusCode: 404);

    static Dictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(EmbeddedAssets).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith("wwwroot/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            string name = resource["wwwroot/".Length..];
            files[name] = (bytes, Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            });
        }
        return files;
    }
}
