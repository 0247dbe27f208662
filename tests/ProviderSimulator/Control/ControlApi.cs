using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.ProviderSimulator.Control;

/// <summary>The /_sim/* endpoints: the in-process API over HTTP, for a simulator running as its own process.</summary>
internal sealed class ControlApi(ProviderScript script)
{
    public async Task HandleAsync(HttpContext context, string path, byte[] body)
    {
        var response = context.Response;
        try
        {
            switch (context.Request.Method, path)
            {
                case ("GET", "/_sim"):
                    await JsonResponse.WriteAsync(response, StatusCodes.Status200OK, json =>
                    {
                        json.WriteStartObject();
                        json.WriteNumber("pendingReplies", script.PendingReplies);
                        json.WriteNumber("recordedRequests", script.Log.Count);
                        json.WritePropertyName("pacing");
                        ReplyJson.WritePacing(json, script.DefaultPacing);
                        json.WriteBoolean("requiresApiKey", script.RequiredApiKey is not null);
                        json.WriteEndObject();
                    });
                    break;
                case ("POST", "/_sim/replies"):
                    using (var document = JsonDocument.Parse(body))
                    {
                        script.Enqueue(ReplyJson.ParseReplies(document.RootElement));
                    }

                    await JsonResponse.WriteAsync(response, StatusCodes.Status200OK, json =>
                    {
                        json.WriteStartObject();
                        json.WriteNumber("pendingReplies", script.PendingReplies);
                        json.WriteEndObject();
                    });
                    break;
                case ("DELETE", "/_sim/replies"):
                    script.ClearReplies();
                    response.StatusCode = StatusCodes.Status204NoContent;
                    break;
                case ("GET", "/_sim/requests"):
                    var requests = script.Log.Snapshot();
                    await JsonResponse.WriteAsync(response, StatusCodes.Status200OK, json => WriteRequests(json, requests));
                    break;
                case ("DELETE", "/_sim/requests"):
                    script.Log.Clear();
                    response.StatusCode = StatusCodes.Status204NoContent;
                    break;
                case ("GET", "/_sim/pacing"):
                    await JsonResponse.WriteAsync(response, StatusCodes.Status200OK, json => ReplyJson.WritePacing(json, script.DefaultPacing));
                    break;
                case ("PUT", "/_sim/pacing"):
                    using (var document = JsonDocument.Parse(body))
                    {
                        script.DefaultPacing = ReplyJson.ParsePacing(document.RootElement);
                    }

                    await JsonResponse.WriteAsync(response, StatusCodes.Status200OK, json => ReplyJson.WritePacing(json, script.DefaultPacing));
                    break;
                case ("PUT", "/_sim/api-key"):
                    using (var document = JsonDocument.Parse(body))
                    {
                        script.RequiredApiKey = document.RootElement.TryGetProperty("apiKey", out var key) && key.ValueKind == JsonValueKind.String
                            ? key.GetString()
                            : null;
                    }

                    response.StatusCode = StatusCodes.Status204NoContent;
                    break;
                default:
                    await JsonResponse.WriteErrorAsync(response, new SimulatedError(
                        404, $"No control endpoint {context.Request.Method} {path}.", "invalid_request_error", "unknown_url"));
                    break;
            }
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            await JsonResponse.WriteErrorAsync(response, new SimulatedError(400, e.Message, "invalid_request_error", null));
        }
    }

    private static void WriteRequests(Utf8JsonWriter json, RecordedRequest[] requests)
    {
        json.WriteStartArray();
        foreach (var request in requests)
        {
            json.WriteStartObject();
            json.WriteString("time", request.Time);
            json.WriteString("method", request.Method);
            json.WriteString("path", request.Path);
            json.WriteString("queryString", request.QueryString);
            json.WriteStartObject("headers");
            foreach (var (name, value) in request.Headers)
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteString("body", request.Body);
            // true once the client closed the connection before the answer ended, false once it ended; null meanwhile
            if (request.ClosedByClient.IsCompletedSuccessfully) json.WriteBoolean("closedByClient", request.ClosedByClient.Result);
            else json.WriteNull("closedByClient");
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
