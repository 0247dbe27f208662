using System.Text.Json;

namespace AiAssistant.Services.Chat.Chat;

/// <summary>
/// What the UI stream hands the browser to send back, as the AI SDK does with <c>providerMetadata</c>: a reasoning's
/// signature or encrypted content (<c>reasoning-end</c>, kept in the reasoning part) and a call's Gemini
/// <c>thoughtSignature</c> (<c>tool-input-available</c>, kept as the tool part's <c>callProviderMetadata</c>). A turn
/// that continues after an approval or a browser tool needs them: Anthropic refuses a tool call after thinking
/// without its signed thinking block, Gemini a call without its signature.
/// </summary>
public static class ProviderMetadata
{
    public const string Key = "aiassistant";
    public const string ProtectedData = "protectedData";
    public const string ThoughtSignature = Providers.Gemini.GeminiChatClient.ThoughtSignature;

    /// <summary><c>"providerMetadata":{"aiassistant":{name: value}}</c>.</summary>
    public static void Write(Utf8JsonWriter w, string name, string value)
    {
        w.WriteStartObject("providerMetadata");
        w.WriteStartObject(Key);
        w.WriteString(name, value);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The value under <c>{property}.aiassistant.{name}</c> of a UI message part, if it is a string.</summary>
    public static string? Read(JsonElement part, string property, string name) =>
        part.TryGetProperty(property, out var metadata) && metadata.ValueKind == JsonValueKind.Object
        && metadata.TryGetProperty(Key, out var ours) && ours.ValueKind == JsonValueKind.Object
        && ours.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
