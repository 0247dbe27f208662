using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// Directus's <c>{{ path }}</c> references into the data chain, in any string of an operation's options. A string that
/// is one reference becomes the value itself (an object stays an object); references inside text are written into it
/// (text as is, anything else as JSON, a missing value as nothing). A path is dotted with optional indexes:
/// <c>$trigger.body.items[0].id</c>.
/// </summary>
public static partial class FlowTemplates
{
    [GeneratedRegex(@"\{\{\s*([^{}]*?)\s*\}\}")]
    private static partial Regex Reference();

    [GeneratedRegex(@"^\{\{\s*([^{}]*?)\s*\}\}$")]
    private static partial Regex Whole();

    public static bool IsTemplate(JsonNode node) => node.GetValueKind() == JsonValueKind.String && Reference().IsMatch(node.GetValue<string>());

    /// <summary>Every path referenced anywhere in <paramref name="node"/>.</summary>
    public static IEnumerable<string> References(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => References(p.Value)),
        JsonArray a => a.SelectMany(References),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Reference().Matches(v.GetValue<string>()).Select(m => m.Groups[1].Value),
        _ => [],
    };

    public static JsonNode? Render(JsonNode? node, JsonObject chain) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Render(p.Value, chain)))),
        JsonArray a => new JsonArray(a.Select(i => Render(i, chain)).ToArray()),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => RenderText(v.GetValue<string>(), chain),
        _ => node?.DeepClone(),
    };

    private static JsonNode? RenderText(string text, JsonObject chain)
    {
        if (Whole().Match(text) is { Success: true } whole) return Get(chain, whole.Groups[1].Value)?.DeepClone();
        if (!Reference().IsMatch(text)) return JsonValue.Create(text);
        return JsonValue.Create(Reference().Replace(text, m => Get(chain, m.Groups[1].Value) switch
        {
            null => "",
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            var other => other.ToJsonString(),
        }));
    }

    /// <summary>The value at <paramref name="path"/>, or <c>null</c> when any step is missing.</summary>
    public static JsonNode? Get(JsonNode? root, string path)
    {
        var node = root;
        foreach (var segment in path.Replace("[", ".").Replace("]", "").Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            node = node switch
            {
                JsonObject o => o[segment],
                JsonArray a when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => null,
            };
            if (node is null) return null;
        }
        return node;
    }
}
