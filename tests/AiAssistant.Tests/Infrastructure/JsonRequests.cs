using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace AiAssistant.Tests.Infrastructure;

/// <summary>One REST call with an optional JSON body, answered as its status and parsed body (<c>null</c> when empty).</summary>
internal static class JsonRequests
{
    public static async Task<(HttpStatusCode Status, JsonNode? Body)> SendJsonAsync(this HttpClient client, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }
}
