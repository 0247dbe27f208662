using System.Text.Json;

namespace AiAssistant.Tests.Simulator;

/// <summary>Reads the simulator's SSE stream the way an OpenAI client does: the payload of each <c>data:</c> line.</summary>
internal static class ServerSentEvents
{
    public static async Task<List<string>> ReadDataAsync(HttpResponseMessage response)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var data = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Add(line["data: ".Length..]);
            }
        }

        return data;
    }

    /// <summary>The parsed JSON chunks, i.e. every payload but <c>[DONE]</c>.</summary>
    public static List<JsonElement> Chunks(IEnumerable<string> data) =>
        [.. data.Where(payload => payload != "[DONE]").Select(payload => JsonDocument.Parse(payload).RootElement)];

    public static string? DeltaContent(JsonElement chunk) =>
        chunk.GetProperty("choices") is { } choices && choices.GetArrayLength() > 0
        && choices[0].GetProperty("delta").TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
            ? content.GetString()
            : null;

    public static string? FinishReason(JsonElement chunk) =>
        chunk.GetProperty("choices") is { } choices && choices.GetArrayLength() > 0
        && choices[0].GetProperty("finish_reason") is { ValueKind: JsonValueKind.String } reason
            ? reason.GetString()
            : null;
}
