using System.Text.Json;

namespace AiAssistant.AppHost.Resources;

/// <summary>
/// A server's ports, kept in its folder (ports.json): free ones picked on first use, the same on every later start,
/// so clients' addresses stay valid across restarts of the server and of the launcher.
/// </summary>
public static class PortFile
{
    public const string FileName = "ports.json";

    /// <param name="requested">port per name; 0 = the saved one, or a free one</param>
    public static IReadOnlyDictionary<string, int> LoadOrCreate(string folder, IReadOnlyDictionary<string, int> requested)
    {
        var path = Path.Combine(folder, FileName);
        var saved = File.Exists(path)
            ? JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(path)) ?? []
            : [];
        var missing = requested.Where(r => r.Value == 0 && !saved.ContainsKey(r.Key)).Select(r => r.Key).ToList();
        var fresh = FreePorts.Take(missing.Count);
        var result = new Dictionary<string, int>();
        foreach (var (name, port) in requested)
            result[name] = port != 0 ? port : saved.TryGetValue(name, out var s) ? s : fresh[missing.IndexOf(name)];
        if (!result.OrderBy(r => r.Key).SequenceEqual(saved.OrderBy(r => r.Key)))
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        }
        return result;
    }
}
