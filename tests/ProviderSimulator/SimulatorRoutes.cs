using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using AiAssistant.ProviderSimulator.Control;
using AiAssistant.ProviderSimulator.OpenAi;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.ProviderSimulator;

/// <summary>The simulator's one request delegate: /_sim/* is control, everything else is the provider and is recorded.</summary>
internal sealed class SimulatorRoutes(ProviderScript script)
{
    private readonly ChatCompletionsEndpoint openAi = new(script);
    private readonly ControlApi control = new(script);
    private readonly Wire.WireEndpoints wire = new(script);

    public async Task DispatchAsync(HttpContext context)
    {
        var request = context.Request;
        string path = request.Path.Value ?? "/";
        byte[] body = await ReadBodyAsync(request.BodyReader, context.RequestAborted);
        if (path.StartsWith("/_sim", StringComparison.Ordinal))
        {
            await control.HandleAsync(context, path.TrimEnd('/'), body);
            return;
        }

        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (script.Log.IsRecording)
        {
            script.Log.Add(Record(request, path, body) with { ClosedByClient = closed.Task });
        }

        try
        {
            await RouteAsync(context, request, path, body);
        }
        finally
        {
            closed.TrySetResult(HangUps.ClosedByClient(context));
        }
    }

    private async Task RouteAsync(HttpContext context, HttpRequest request, string path, byte[] body)
    {
        // clients configured with or without the /v1 suffix both reach the provider
        string route = path.StartsWith("/v1/", StringComparison.Ordinal) ? path[3..] : path;
        if (request.Method == "POST" && path.StartsWith("/v1beta/models/", StringComparison.Ordinal))
        {
            await wire.GeminiAsync(context, path["/v1beta/models/".Length..], body);
            return;
        }

        if (request.Method == "POST" && path == "/upload/v1beta/files")
        {
            await script.Files.GeminiUploadAsync(context, body);
            return;
        }

        switch (request.Method, route)
        {
            case ("POST", "/files"):
                await script.Files.MultipartAsync(context, body);
                break;
            case ("POST", "/chat/completions"):
                await openAi.CompleteAsync(context, body);
                break;
            case ("POST", "/responses"):
                await wire.ResponsesAsync(context, body);
                break;
            case ("POST", "/messages"):
                await wire.AnthropicAsync(context, body);
                break;
            case ("GET", "/models"):
                await openAi.ListModelsAsync(context);
                break;
            default:
                await JsonResponse.WriteErrorAsync(context.Response, new SimulatedError(
                    404, $"Invalid URL ({request.Method} {path}).", "invalid_request_error", "unknown_url"));
                break;
        }
    }

    private static RecordedRequest Record(HttpRequest request, string path, byte[] body)
    {
        var headers = new Dictionary<string, string>(request.Headers.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = values.ToString();
        }

        return new RecordedRequest(
            DateTimeOffset.UtcNow, request.Method, path, request.QueryString.Value ?? "", headers, Encoding.UTF8.GetString(body))
        {
            ConnectionId = request.HttpContext.Connection.Id,
        };
    }

    private static async Task<byte[]> ReadBodyAsync(PipeReader reader, CancellationToken aborted)
    {
        while (true)
        {
            var result = await reader.ReadAsync(aborted);
            if (result.IsCompleted)
            {
                byte[] body = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                return body;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
