using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Settings.Settings;

/// <summary>The AI settings fields under the reference's names, which of them are secrets, and how each is validated.</summary>
public static class AiSettingsFields
{
    public const string Mask = "**********";

    public const string CompatibleName = "ai_openai_compatible_name";
    public const string CompatibleBaseUrl = "ai_openai_compatible_base_url";
    public const string CompatibleApiKey = "ai_openai_compatible_api_key";
    public const string CompatibleHeaders = "ai_openai_compatible_headers";
    public const string CompatibleModels = "ai_openai_compatible_models";
    public const string SystemPrompt = "ai_system_prompt";

    public const int DefaultContext = 128000;
    public const int DefaultOutput = 16000;
    private const int MaxSystemPrompt = 100_000;

    /// <summary>Every field, in the order responses list them.</summary>
    public static readonly string[] All = [CompatibleName, CompatibleBaseUrl, CompatibleApiKey, CompatibleHeaders, CompatibleModels, SystemPrompt];

    public static readonly HashSet<string> Secrets = [CompatibleApiKey];

    public static bool IsSecret(string field) => Secrets.Contains(field);

    /// <summary>
    /// Validates one field of a PATCH body and returns its normalised value (null clears it).
    /// Throws a 400 naming the field for anything a person must fix.
    /// </summary>
    public static JsonNode? Validate(string field, JsonNode? value)
    {
        if (value is null) return null;
        switch (field)
        {
            case CompatibleName:
                return Text(field, value, 200);
            case CompatibleApiKey:
                return Text(field, value, 4000);
            case SystemPrompt:
                return Text(field, value, MaxSystemPrompt);
            case CompatibleBaseUrl:
            {
                var url = Text(field, value, 2000).GetValue<string>();
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                    throw Invalid(field, $"\"{field}\" must be an absolute http or https URL, such as http://localhost:11434/v1");
                return JsonValue.Create(url.TrimEnd('/'));
            }
            case CompatibleHeaders:
                return Headers(field, value);
            case CompatibleModels:
                return Models(field, value);
            default:
                throw Invalid(field, $"\"{field}\" is not a setting that can be changed");
        }
    }

    private static JsonNode Text(string field, JsonNode value, int max)
    {
        if (value.GetValueKind() != JsonValueKind.String)
            throw Invalid(field, $"\"{field}\" must be a string or null");
        var s = value.GetValue<string>();
        if (s.Length > max) throw Invalid(field, $"\"{field}\" must be at most {max} characters");
        return JsonValue.Create(s);
    }

    private static JsonArray Headers(string field, JsonNode value)
    {
        if (value is not JsonArray array) throw Invalid(field, $"\"{field}\" must be a list of {{header, value}} or null");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new JsonArray();
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"{field}[{i}]";
            if (array[i] is not JsonObject item) throw Invalid(field, $"\"{at}\" must be an object with header and value");
            var name = item["header"] is JsonValue h && h.GetValueKind() == JsonValueKind.String ? h.GetValue<string>() : null;
            var val = item["value"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
            if (string.IsNullOrEmpty(name) || !IsToken(name))
                throw Invalid(field, $"\"{at}.header\" must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)");
            if (val is null) throw Invalid(field, $"\"{at}.value\" must be a string");
            if (val.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
                throw Invalid(field, $"\"{at}.value\" must not contain line breaks");
            if (!seen.Add(name)) throw Invalid(field, $"\"{at}.header\" repeats the header {name}");
            result.Add(new JsonObject { ["header"] = name, ["value"] = val });
        }
        return result;
    }

    private static JsonArray Models(string field, JsonNode value)
    {
        if (value is not JsonArray array) throw Invalid(field, $"\"{field}\" must be a list of models or null");
        var result = new JsonArray();
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"{field}[{i}]";
            if (array[i] is not JsonObject item) throw Invalid(field, $"\"{at}\" must be an object with id and name");
            string RequiredText(string key) =>
                item[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Trim() is { Length: > 0 } s
                    ? s : throw Invalid(field, $"\"{at}.{key}\" is required");
            int Positive(string key, int fallback)
            {
                if (item[key] is null) return fallback;
                if (item[key] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) && n > 0) return n;
                throw Invalid(field, $"\"{at}.{key}\" must be a positive whole number");
            }
            bool Flag(string key)
            {
                if (item[key] is null) return false;
                if (item[key] is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
                throw Invalid(field, $"\"{at}.{key}\" must be true or false");
            }
            var options = item["providerOptions"];
            if (options is not null and not JsonObject) throw Invalid(field, $"\"{at}.providerOptions\" must be an object");
            result.Add(new JsonObject
            {
                ["id"] = RequiredText("id"),
                ["name"] = RequiredText("name"),
                ["context"] = Positive("context", DefaultContext),
                ["output"] = Positive("output", DefaultOutput),
                ["attachment"] = Flag("attachment"),
                ["reasoning"] = Flag("reasoning"),
                ["providerOptions"] = options?.DeepClone(),
            });
        }
        return result;
    }

    private static bool IsToken(string name)
    {
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))) return false;
        return true;
    }

    private static DirectusException Invalid(string field, string reason) => DirectusException.InvalidPayload(reason, field);
}
