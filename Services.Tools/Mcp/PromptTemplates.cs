using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AiAssistant.Services.Tools.Mcp;

/// <summary>A placeholder of a prompt: <c>{{name}}</c>, or <c>{{ name: what to give }}</c> with its description.</summary>
public sealed record PromptVariable(string Name, string? Description);

/// <summary>One message of a prompt; <see cref="Role"/> is <c>user</c> or <c>assistant</c>.</summary>
public sealed record PromptMessage(string Role, string Text);

/// <summary>A caller did not give a value for every variable of a prompt; <see cref="Names"/> are the missing ones.</summary>
public sealed class MissingPromptArgumentsException(IReadOnlyList<string> names)
    : Exception($"Missing required argument{(names.Count == 1 ? "" : "s")}: {string.Join(", ", names)}")
{
    public IReadOnlyList<string> Names { get; } = names;
}

/// <summary>
/// One item of the prompts collection (<c>name</c>, <c>description</c>, <c>system_prompt</c>, <c>messages</c> as
/// <c>[{role, text}]</c>), as MCP's prompts and the assistant's prompt attachments use it.
/// </summary>
public sealed record PromptTemplate(string Name, string? Description, string? SystemPrompt, IReadOnlyList<PromptMessage> Messages)
{
    /// <summary>The prompt an item holds; null without a name. A message that is not <c>{role, text}</c> is skipped.</summary>
    public static PromptTemplate? FromItem(JsonObject item)
    {
        if (Text(item["name"]) is not { Length: > 0 } name) return null;
        var messages = new List<PromptMessage>();
        // a json field holds the list; one stored as its JSON text is read too
        var list = item["messages"] switch
        {
            JsonArray a => a,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => TryParse(v.GetValue<string>()) as JsonArray,
            _ => null,
        };
        foreach (var m in list ?? [])
            if (m is JsonObject message && Text(message["text"]) is { } text)
                messages.Add(new PromptMessage(Text(message["role"]) == "assistant" ? "assistant" : "user", text));
        return new PromptTemplate(name, Text(item["description"]), Text(item["system_prompt"]), messages);
    }

    /// <summary>Every variable of the system prompt and the messages, each once, in the order they first appear.</summary>
    public IReadOnlyList<PromptVariable> Variables() =>
        PromptTemplates.Variables(new[] { SystemPrompt }.Concat(Messages.Select(m => m.Text)));

    /// <summary>
    /// The messages with every placeholder filled from <paramref name="values"/>: the system prompt first, as an
    /// assistant message (as the reference's MCP server sends it), then the prompt's messages.
    /// </summary>
    public IReadOnlyList<PromptMessage> Render(IReadOnlyDictionary<string, string>? values)
    {
        var missing = Variables().Select(v => v.Name).Where(n => values is null || !values.ContainsKey(n)).ToList();
        if (missing.Count > 0) throw new MissingPromptArgumentsException(missing);
        var result = new List<PromptMessage>();
        if (!string.IsNullOrWhiteSpace(SystemPrompt)) result.Add(new PromptMessage("assistant", PromptTemplates.Render(SystemPrompt, values!)));
        result.AddRange(Messages.Select(m => m with { Text = PromptTemplates.Render(m.Text, values!) }));
        return result;
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static JsonNode? TryParse(string json)
    {
        try
        {
            return JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// The <c>{{variable}}</c> placeholders of prompt texts, as the reference's prompts use them: a name is
/// <c>[A-Za-z_][A-Za-z0-9_-]*</c>, spaces inside the braces are allowed, and <c>{{ name: description }}</c> is the
/// variable <c>name</c> (its description tells the caller what to give). Anything else in braces is left as text.
/// </summary>
public static partial class PromptTemplates
{
    [GeneratedRegex(@"\{\{\s*(?<name>[A-Za-z_][A-Za-z0-9_-]*)\s*(?::(?<description>[^{}]*))?\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    /// <summary>The variables of <paramref name="texts"/>, each once, in order; the first description given for a name is kept.</summary>
    public static IReadOnlyList<PromptVariable> Variables(IEnumerable<string?> texts)
    {
        var found = new List<PromptVariable>();
        foreach (var text in texts)
        {
            if (string.IsNullOrEmpty(text)) continue;
            foreach (Match m in Placeholder().Matches(text))
            {
                var name = m.Groups["name"].Value;
                var description = m.Groups["description"].Success && m.Groups["description"].Value.Trim() is { Length: > 0 } d ? d : null;
                var at = found.FindIndex(v => v.Name == name);
                if (at < 0) found.Add(new PromptVariable(name, description));
                else if (found[at].Description is null && description is not null) found[at] = found[at] with { Description = description };
            }
        }
        return found;
    }

    /// <summary><paramref name="text"/> with each placeholder replaced by its value; a placeholder without a value stays as written.</summary>
    public static string Render(string text, IReadOnlyDictionary<string, string> values) =>
        Placeholder().Replace(text, m => values.TryGetValue(m.Groups["name"].Value, out var value) ? value : m.Value);
}
