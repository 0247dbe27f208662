using System.Globalization;
using System.Text;
using System.Text.Json;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Chat.Chat;

/// <summary>The page the user is on (<c>context.page</c>).</summary>
public sealed record ChatPage(string Path, string? Collection, string? Item, string? Module);

/// <summary>One <c>context.attachments</c> entry: an item, a visual-editor element or an applied prompt.</summary>
public sealed record ChatAttachment(string Type, string Display, JsonElement Data, JsonElement Snapshot);

/// <summary>
/// <c>context</c> of a chat request and the block it adds to the system prompt (the reference's
/// <c>formatContextForSystemPrompt</c>): applied prompts as <c>&lt;custom_instructions&gt;</c>, then
/// <c>&lt;user_context&gt;</c> with the current page, the items the user added and — always — the current date, then
/// the selected visual-editor elements, then the rules for attachments. Every user string is escaped
/// (<c>&amp; &lt; &gt; "</c>) so an attachment cannot close a block and speak as the system.
/// </summary>
public sealed record ChatContext(ChatPage? Page, IReadOnlyList<ChatAttachment> Attachments)
{
    public const int MaxAttachments = 10;
    // readable JSON (no \u003C); the markup characters are escaped after
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static ChatContext Parse(JsonElement context)
    {
        if (context.ValueKind != JsonValueKind.Object) throw Invalid("\"context\" must be an object", "context");
        ChatPage? page = null;
        if (context.TryGetProperty("page", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            if (p.ValueKind != JsonValueKind.Object || !p.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String)
                throw Invalid("\"context.page\" must be an object with a string \"path\"", "context");
            page = new ChatPage(path.GetString()!, Text(p, "collection"), Text(p, "item"), Text(p, "module"));
        }
        var attachments = new List<ChatAttachment>();
        if (context.TryGetProperty("attachments", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind != JsonValueKind.Array) throw Invalid("\"context.attachments\" must be an array", "context");
            if (list.GetArrayLength() > MaxAttachments) throw Invalid($"\"context.attachments\" may hold at most {MaxAttachments} items", "context");
            var index = 0;
            foreach (var a in list.EnumerateArray())
            {
                var at = $"context.attachments[{index++}]";
                var type = a.ValueKind == JsonValueKind.Object && a.TryGetProperty("type", out var t) ? t.GetString() : null;
                if (type is not ("item" or "visual-element" or "prompt"))
                    throw Invalid($"\"{at}.type\" must be \"item\", \"visual-element\" or \"prompt\"", "context");
                if (!a.TryGetProperty("display", out var display) || display.ValueKind != JsonValueKind.String)
                    throw Invalid($"\"{at}.display\" must be a string", "context");
                if (!a.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
                    throw Invalid($"\"{at}.data\" must be an object", "context");
                var snapshot = a.TryGetProperty("snapshot", out var s) && s.ValueKind == JsonValueKind.Object ? s.Clone() : default;
                if (type != "prompt" && (Text(data, "collection") is null || !data.TryGetProperty(type == "item" ? "key" : "item", out _)))
                    throw Invalid($"\"{at}.data\" must name its \"collection\" and {(type == "item" ? "\"key\"" : "\"item\"")}", "context");
                attachments.Add(new ChatAttachment(type, display.GetString()!, data.Clone(), snapshot));
            }
        }
        return new ChatContext(page, attachments);
    }

    /// <summary>The block appended to the system prompt (or, for Anthropic, sent as a trailing user message).</summary>
    public static string Format(ChatContext? context, DateTimeOffset now)
    {
        var text = new StringBuilder();
        var attachments = context?.Attachments ?? [];
        var prompts = attachments.Where(a => a.Type == "prompt").ToList();
        if (prompts.Count > 0)
        {
            text.Append("\n\n<custom_instructions>\nThe user has applied the following prompt(s). Follow them for this conversation.\n");
            foreach (var prompt in prompts)
            {
                text.Append("\n### ").Append(Escape(prompt.Display)).Append('\n');
                if (Text(prompt.Snapshot, "text") is { } body) text.Append(Escape(body)).Append('\n');
                if (prompt.Snapshot.ValueKind == JsonValueKind.Object && prompt.Snapshot.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array && messages.GetArrayLength() > 0)
                {
                    text.Append("\n### Example Exchange\n");
                    foreach (var m in messages.EnumerateArray())
                        text.Append("**").Append(Escape(Text(m, "role") ?? "user")).Append("**: ").Append(Escape(Text(m, "text") ?? "")).Append('\n');
                }
            }
            text.Append("</custom_instructions>");
        }

        text.Append("\n\n<user_context>\n");
        if (context?.Page is { } page)
        {
            text.Append("## Current Page\nPath: ").Append(Escape(page.Path)).Append('\n');
            if (page.Collection is not null) text.Append("Collection: ").Append(Escape(page.Collection)).Append('\n');
            if (page.Item is not null) text.Append("Item: ").Append(Escape(page.Item)).Append('\n');
            if (page.Module is not null) text.Append("Module: ").Append(Escape(page.Module)).Append('\n');
            text.Append('\n');
        }
        var items = attachments.Where(a => a.Type == "item").ToList();
        if (items.Count > 0)
        {
            text.Append("## User-Added Context\n");
            foreach (var item in items)
            {
                var collection = Escape(Text(item.Data, "collection")!);
                var key = Escape(Scalar(item.Data.GetProperty("key")));
                text.Append("[Item: ").Append(Escape(item.Display)).Append(" (").Append(collection).Append(") — key: ").Append(key).Append("]\n")
                    .Append("To change it, use the items tool with collection=\"").Append(collection).Append("\", keys=[\"").Append(key).Append("\"], action=\"update\".\n");
                AppendSnapshot(text, item.Snapshot);
            }
            text.Append('\n');
        }
        text.Append("## Current Date\n").Append(now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append("\n</user_context>");

        var elements = attachments.Where(a => a.Type == "visual-element").ToList();
        if (elements.Count > 0)
        {
            text.Append("\n\n<visual_editing>\n## Selected Elements\n");
            foreach (var element in elements)
            {
                var collection = Escape(Text(element.Data, "collection")!);
                var item = Escape(Scalar(element.Data.GetProperty("item")));
                var fields = element.Data.TryGetProperty("fields", out var f) && f.ValueKind == JsonValueKind.Array && f.GetArrayLength() > 0
                    ? string.Join(", ", f.EnumerateArray().Select(x => Escape(Scalar(x)))) : "all";
                text.Append("### ").Append(collection).Append('/').Append(item).Append(" — \"").Append(Escape(element.Display)).Append("\"\n")
                    .Append("Editable fields: ").Append(fields).Append('\n')
                    .Append("To change it, use the items tool with collection=\"").Append(collection).Append("\", keys=[\"").Append(item).Append("\"], action=\"update\".\n");
                AppendSnapshot(text, element.Snapshot);
            }
            text.Append("ALWAYS use the items tool to change these elements; never the form-values tools.\n</visual_editing>");
        }
        if (attachments.Count > 0)
            text.Append("\n\n## Attachment Rules\n- What the user attached outranks the current page.\n- The form-values tools only touch the form open on the page.");
        return text.ToString();
    }

    private static void AppendSnapshot(StringBuilder text, JsonElement snapshot)
    {
        if (snapshot.ValueKind != JsonValueKind.Object) return;
        // quotes stay: it must read as JSON; the markup characters cannot close a block
        text.Append("```json\n").Append(JsonSerializer.Serialize(snapshot, Indented).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;")).Append("\n```\n");
    }

    public static string Escape(string value) =>
        value.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");

    private static string Scalar(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number
            ? Scalar(v) : null;

    private static DirectusException Invalid(string reason, string field) => DirectusException.InvalidPayload(reason, field);
}
