using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.ServiceDefaults.Errors;

/// <summary>The one way a handler reads a JSON body: 415 for another media type, 400 for bad JSON or (for an object body) a non-object.</summary>
public static class JsonBody
{
    public static async Task<JsonObject> ReadObjectAsync(HttpRequest request, CancellationToken ct) =>
        await ReadAsync(request, ct) as JsonObject ?? throw DirectusException.InvalidPayload("The body must be a JSON object");

    /// <summary>Any JSON value: item writes take an object or an array of them.</summary>
    public static async Task<JsonNode> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentType is null || !request.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            throw new DirectusException(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
                "Unsupported media type. Send the body as application/json.");
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            throw DirectusException.InvalidPayload($"The body is not valid JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine})");
        }
        return body ?? throw DirectusException.InvalidPayload("The body must not be null");
    }
}
