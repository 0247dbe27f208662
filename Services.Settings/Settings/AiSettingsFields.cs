using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Settings.Settings;

/// <summary>
/// The AI and MCP settings fields under the reference's names, which hold secrets, their defaults, and how each is
/// validated. Beyond the reference, <see cref="CompatibleProviders"/> holds several OpenAI-compatible providers;
/// the reference's single-provider fields address the first of them.
/// </summary>
public static partial class AiSettingsFields
{
    public const string Mask = "**********";

    public const string OpenAiKey = "ai_openai_api_key";
    public const string AnthropicKey = "ai_anthropic_api_key";
    public const string GoogleKey = "ai_google_api_key";
    public const string OpenAiAllowed = "ai_openai_allowed_models";
    public const string AnthropicAllowed = "ai_anthropic_allowed_models";
    public const string GoogleAllowed = "ai_google_allowed_models";

    public const string CompatibleName = "ai_openai_compatible_name";
    public const string CompatibleBaseUrl = "ai_openai_compatible_base_url";
    public const string CompatibleApiKey = "ai_openai_compatible_api_key";
    public const string CompatibleHeaders = "ai_openai_compatible_headers";
    public const string CompatibleModels = "ai_openai_compatible_models";
    public const string CompatibleProviders = "ai_openai_compatible_providers";

    public const string SystemPrompt = "ai_system_prompt";
    /// <summary>Beyond the reference: per-user limits by role, <c>[{role, requests_per_minute, tokens_per_day}]</c>.</summary>
    public const string UsageLimits = "ai_usage_limits";
    public const string McpEnabled = "mcp_enabled";
    public const string McpAllowDeletes = "mcp_allow_deletes";
    public const string McpPromptsCollection = "mcp_prompts_collection";
    public const string McpSystemPromptEnabled = "mcp_system_prompt_enabled";
    public const string McpSystemPrompt = "mcp_system_prompt";

    public const int DefaultContext = 128000;
    public const int DefaultOutput = 16000;
    private const int MaxSystemPrompt = 100_000;
    private const int MaxModelId = 200;

    /// <summary>Built-in providers: their key field and allowed-models field.</summary>
    public static readonly (string Type, string KeyField, string AllowedField)[] BuiltInProviders =
    [
        ("openai", OpenAiKey, OpenAiAllowed),
        ("anthropic", AnthropicKey, AnthropicAllowed),
        ("google", GoogleKey, GoogleAllowed),
    ];

    /// <summary>The reference's single-provider fields, all about the first OpenAI-compatible provider.</summary>
    public static readonly string[] LegacyCompatible = [CompatibleName, CompatibleBaseUrl, CompatibleApiKey, CompatibleHeaders, CompatibleModels];

    /// <summary>Every field, in the order responses list them.</summary>
    public static readonly string[] All =
    [
        OpenAiKey, AnthropicKey, GoogleKey, OpenAiAllowed, AnthropicAllowed, GoogleAllowed,
        CompatibleName, CompatibleBaseUrl, CompatibleApiKey, CompatibleHeaders, CompatibleModels, CompatibleProviders,
        SystemPrompt, UsageLimits, McpEnabled, McpAllowDeletes, McpPromptsCollection, McpSystemPromptEnabled, McpSystemPrompt,
    ];

    /// <summary>Top-level secret fields (each compatible provider's key is a secret of its own, see <see cref="CompatibleKeyField"/>).</summary>
    public static readonly HashSet<string> TopLevelSecrets = [OpenAiKey, AnthropicKey, GoogleKey];

    /// <summary>The secret's name (also its associated data) for a compatible provider's key.</summary>
    public static string CompatibleKeyField(string providerId) => $"{CompatibleProviders}.{providerId}.api_key";

    /// <summary>Defaults of a fresh install; a field never written reads as its default.</summary>
    public static JsonNode? Default(string field, Models.ModelCatalog catalog) => field switch
    {
        OpenAiAllowed => new JsonArray(catalog.DefaultAllowed["openai"].Select(m => (JsonNode)m).ToArray()),
        AnthropicAllowed => new JsonArray(catalog.DefaultAllowed["anthropic"].Select(m => (JsonNode)m).ToArray()),
        GoogleAllowed => new JsonArray(catalog.DefaultAllowed["google"].Select(m => (JsonNode)m).ToArray()),
        McpEnabled => false,
        McpAllowDeletes => false,
        McpSystemPromptEnabled => true,
        CompatibleProviders => new JsonArray(),
        UsageLimits => new JsonArray(),
        _ => null,
    };

    /// <summary>
    /// Validates one top-level field of a PATCH body and returns its normalised value (null clears it).
    /// Throws a 400 naming the field for anything a person must fix.
    /// </summary>
    public static JsonNode? Validate(string field, JsonNode? value)
    {
        switch (field)
        {
            case McpEnabled or McpAllowDeletes or McpSystemPromptEnabled:
                if (value is JsonValue b && b.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return JsonValue.Create(b.GetValue<bool>());
                throw Invalid(field, $"\"{field}\" must be true or false");
        }
        if (value is null) return null;
        return field switch
        {
            CompatibleName => Text(field, field, value, 200),
            OpenAiKey or AnthropicKey or GoogleKey or CompatibleApiKey => Text(field, field, value, 4000),
            SystemPrompt or McpSystemPrompt => Text(field, field, value, MaxSystemPrompt),
            McpPromptsCollection => Text(field, field, value, 64),
            CompatibleBaseUrl => BaseUrl(field, field, value),
            CompatibleHeaders => Headers(field, field, value),
            CompatibleModels => Models(field, field, value),
            OpenAiAllowed or AnthropicAllowed or GoogleAllowed => AllowedModels(field, value),
            CompatibleProviders => Providers(value),
            UsageLimits => Limits(value),
            _ => throw Invalid(field, $"\"{field}\" is not a setting that can be changed"),
        };
    }

    /// <summary>One OpenAI-compatible provider as stored (without its key) plus what the PATCH said of the key.</summary>
    public sealed record ProviderPatch(JsonObject Stored, JsonNode? ApiKey, bool ApiKeyGiven);

    /// <summary>The parsed list: each provider's stored shape and its key instruction.</summary>
    public static IReadOnlyList<ProviderPatch> ProviderPatches(JsonArray validated) =>
        validated.Select(p => (JsonObject)p!).Select(p =>
        {
            var stored = (JsonObject)p.DeepClone();
            var given = stored.Remove("api_key", out var key);
            return new ProviderPatch(stored, key, given);
        }).ToList();

    private static JsonArray Providers(JsonNode value)
    {
        const string field = CompatibleProviders;
        if (value is not JsonArray array) throw Invalid(field, $"\"{field}\" must be a list of providers");
        var ids = new HashSet<string>();
        var result = new JsonArray();
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"{field}[{i}]";
            if (array[i] is not JsonObject item) throw Invalid(field, $"\"{at}\" must be an object");
            foreach (var (key, _) in item)
                if (key is not ("id" or "name" or "base_url" or "api_key" or "headers" or "models"))
                    throw Invalid(field, $"\"{at}.{key}\" is not a provider field (id, name, base_url, api_key, headers, models)");
            var name = item["name"] is null ? null : Text(field, $"{at}.name", item["name"]!, 200).GetValue<string>();
            var id = item["id"] is null ? Slug(name ?? "") : Text(field, $"{at}.id", item["id"]!, 40).GetValue<string>();
            if (!ProviderId().IsMatch(id))
                throw Invalid(field, $"\"{at}.id\" must be 1 to 40 lower-case letters, digits and dashes (give an id or a name)");
            if (!ids.Add(id)) throw Invalid(field, $"\"{at}.id\" repeats the provider id {id}");
            result.Add(new JsonObject
            {
                ["id"] = id,
                ["name"] = name,
                ["base_url"] = item["base_url"] is null ? null : BaseUrl(field, $"{at}.base_url", item["base_url"]!),
                ["headers"] = item["headers"] is null ? null : Headers(field, $"{at}.headers", item["headers"]!),
                ["models"] = item["models"] is null ? null : Models(field, $"{at}.models", item["models"]!),
            });
            if (item.ContainsKey("api_key"))
                ((JsonObject)result[^1]!)["api_key"] = item["api_key"] is null ? null : Text(field, $"{at}.api_key", item["api_key"]!, 4000);
        }
        return result;
    }

    /// <summary>
    /// <c>ai_usage_limits</c>: at most one entry per role and one without (<c>role: null</c>, everyone whose role has
    /// none); each limit a whole number ≥ 1 or null for none. Whether each role exists is checked by the store.
    /// </summary>
    private static JsonArray Limits(JsonNode value)
    {
        const string field = UsageLimits;
        if (value is not JsonArray array) throw Invalid(field, $"\"{field}\" must be a list of {{role, requests_per_minute, tokens_per_day}}");
        var roles = new HashSet<string>();
        var result = new JsonArray();
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"{field}[{i}]";
            if (array[i] is not JsonObject item) throw Invalid(field, $"\"{at}\" must be an object");
            foreach (var (key, _) in item)
                if (key is not ("role" or "requests_per_minute" or "tokens_per_day"))
                    throw Invalid(field, $"\"{at}.{key}\" is not a limit field (role, requests_per_minute, tokens_per_day)");
            string? role = null;
            if (item["role"] is not null)
            {
                if (item["role"] is not JsonValue r || r.GetValueKind() != JsonValueKind.String || !Guid.TryParse(r.GetValue<string>(), out var id))
                    throw Invalid(field, $"\"{at}.role\" must be a role id or null (everyone else)");
                role = id.ToString();
            }
            if (!roles.Add(role ?? "")) throw Invalid(field, role is null ? $"\"{at}.role\": only one limit may be without a role" : $"\"{at}.role\" repeats the role {role}");
            long? Limit(string key, long max)
            {
                if (item[key] is null) return null;
                if (item[key] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) && n >= 1 && n <= max) return n;
                throw Invalid(field, $"\"{at}.{key}\" must be a whole number from 1 to {max:N0}, or null for no limit");
            }
            result.Add(new JsonObject
            {
                ["role"] = role,
                ["requests_per_minute"] = Limit("requests_per_minute", 1_000_000),
                ["tokens_per_day"] = Limit("tokens_per_day", 1_000_000_000_000),
            });
        }
        return result;
    }

    /// <summary>The role ids <c>ai_usage_limits</c> names (validated).</summary>
    public static IEnumerable<Guid> LimitRoles(JsonArray limits) =>
        limits.Select(l => l!["role"]?.GetValue<string>()).OfType<string>().Select(Guid.Parse);

    private static string Slug(string name)
    {
        var slug = SlugChars().Replace(name.ToLowerInvariant(), "-").Trim('-');
        return slug.Length > 40 ? slug[..40].TrimEnd('-') : slug;
    }

    private static JsonArray AllowedModels(string field, JsonNode value)
    {
        if (value is not JsonArray array) throw Invalid(field, $"\"{field}\" must be a list of model ids or null");
        var result = new JsonArray();
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonValue v || v.GetValueKind() != JsonValueKind.String || v.GetValue<string>().Trim() is not { Length: > 0 } id)
                throw Invalid(field, $"\"{field}[{i}]\" must be a non-empty model id");
            if (id.Length > MaxModelId) throw Invalid(field, $"\"{field}[{i}]\" must be at most {MaxModelId} characters");
            if (!result.Any(r => r!.GetValue<string>() == id)) result.Add(id);
        }
        return result;
    }

    private static JsonValue Text(string field, string at, JsonNode value, int max)
    {
        if (value.GetValueKind() != JsonValueKind.String) throw Invalid(field, $"\"{at}\" must be a string or null");
        var s = value.GetValue<string>();
        if (s.Length > max) throw Invalid(field, $"\"{at}\" must be at most {max} characters");
        return JsonValue.Create(s);
    }

    private static JsonValue BaseUrl(string field, string at, JsonNode value)
    {
        var url = Text(field, at, value, 2000).GetValue<string>();
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw Invalid(field, $"\"{at}\" must be an absolute http or https URL, such as http://localhost:11434/v1");
        return JsonValue.Create(url.TrimEnd('/'));
    }

    private static JsonArray Headers(string field, string at0, JsonNode value)
    {
        if (value is not JsonArray array) throw Invalid(field, $"\"{at0}\" must be a list of {{header, value}} or null");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new JsonArray();
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"{at0}[{i}]";
            if (array[i] is not JsonObject item) throw Invalid(field, $"\"{at}\" must be an object with header and value");
            var name = item["header"] is JsonValue h && h.GetValueKind() == JsonValueKind.String ? h.GetValue<string>() : null;
            var val = item["value"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
            if (string.IsNullOrEmpty(name) || !IsToken(name))
                throw Invalid(field, $"\"{at}.header\" must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)");
            if (val is null) throw Invalid(field, $"\"{at}.value\" must be a string");
            if (val.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0) throw Invalid(field, $"\"{at}.value\" must not contain line breaks");
            if (!seen.Add(name)) throw Invalid(field, $"\"{at}.header\" repeats the header {name}");
            result.Add(new JsonObject { ["header"] = name, ["value"] = val });
        }
        return result;
    }

    private static JsonArray Models(string field, string at0, JsonNode value)
    {
        if (value is not JsonArray array) throw Invalid(field, $"\"{at0}\" must be a list of models or null");
        var result = new JsonArray();
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"{at0}[{i}]";
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

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$")]
    private static partial Regex ProviderId();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex SlugChars();

    private static DirectusException Invalid(string field, string reason) => DirectusException.InvalidPayload(reason, field);
}
