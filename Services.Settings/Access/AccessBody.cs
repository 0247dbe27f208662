using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Settings.Access;

/// <summary>Reading and validating request bodies: every problem is a 400 naming its field, found before anything is stored.</summary>
internal static partial class AccessBody
{
    public static async Task<JsonObject> ReadObjectAsync(HttpRequest request, CancellationToken ct, params string[] allowed)
    {
        var obj = await JsonBody.ReadObjectAsync(request, ct);
        if (allowed.Length > 0)
            foreach (var (name, _) in obj)
                if (Array.IndexOf(allowed, name) < 0)
                    throw DirectusException.InvalidPayload($"\"{name}\" is not a field you can set here", name);
        return obj;
    }

    public static string? OptionalString(JsonObject body, string field, int maxLength = 500)
    {
        var node = body[field];
        if (node is null) return null;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
            throw DirectusException.InvalidPayload($"\"{field}\" must be a string", field);
        var s = v.GetValue<string>();
        if (s.Length > maxLength) throw DirectusException.InvalidPayload($"\"{field}\" must be at most {maxLength} characters", field);
        return s;
    }

    public static string RequiredString(JsonObject body, string field, int maxLength = 500)
    {
        var s = OptionalString(body, field, maxLength);
        if (string.IsNullOrWhiteSpace(s)) throw DirectusException.InvalidPayload($"\"{field}\" is required", field);
        return s;
    }

    public static bool? OptionalBool(JsonObject body, string field)
    {
        var node = body[field];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
        throw DirectusException.InvalidPayload($"\"{field}\" must be true or false", field);
    }

    public static Guid? OptionalId(JsonObject body, string field)
    {
        var s = OptionalString(body, field, 64);
        if (s is null) return null;
        return Guid.TryParse(s, out var id) ? id : throw DirectusException.InvalidPayload($"\"{field}\" must be an id (uuid)", field);
    }

    public static Guid PathId(string id, string what) =>
        Guid.TryParse(id, out var g) ? g : throw NotFound(what);

    public static DirectusException NotFound(string what) => DirectusException.Forbidden();

    public static bool IsEmail(string s) => s.Length <= 254 && EmailPattern().IsMatch(s);

    [GeneratedRegex(@"^[^\s@""<>()\[\]\\,;:]+@[^\s@""<>()\[\]\\,;:]+\.[^\s@""<>()\[\]\\,;:.]{2,}$")]
    private static partial Regex EmailPattern();
}

/// <summary>What a user's fields may hold.</summary>
internal static class UserRules
{
    public static readonly string[] Statuses = ["active", "suspended", "invited", "draft", "archived"];

    public static bool IsEmail(string s) => AccessBody.IsEmail(s);

    public static string Email(JsonObject body)
    {
        var email = AccessBody.RequiredString(body, "email", 254).Trim();
        return IsEmail(email) ? email : throw DirectusException.InvalidPayload("\"email\" must be a valid email address", "email");
    }

    public static string Password(JsonObject body, string field = "password")
    {
        if (body[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length > 0)
        {
            var s = v.GetValue<string>();
            return s.Length <= 1000 ? s : throw DirectusException.InvalidPayload($"\"{field}\" must be at most 1000 characters", field);
        }
        throw DirectusException.InvalidPayload($"\"{field}\" must be a non-empty string", field);
    }

    public static string Status(JsonObject body)
    {
        var s = AccessBody.RequiredString(body, "status", 20);
        return Statuses.Contains(s) ? s : throw DirectusException.InvalidPayload($"\"status\" must be one of {string.Join(", ", Statuses)}", "status");
    }

    public static string Token(JsonObject body)
    {
        var s = AccessBody.OptionalString(body, "token", 500);
        return s is { Length: >= 16 } ? s : throw DirectusException.InvalidPayload("\"token\" must be a string of at least 16 characters, or null", "token");
    }
}
