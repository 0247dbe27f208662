using System.Buffers;
using System.Text.Json;
using AiAssistant.ProviderSimulator.OpenAi;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.ProviderSimulator;

/// <summary>The one way the simulator answers with a whole JSON body: built in memory, sent with its length.</summary>
internal static class JsonResponse
{
    public static async Task WriteAsync(HttpResponse response, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            write(json);
        }

        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        await response.BodyWriter.WriteAsync(buffer.WrittenMemory);
    }

    /// <summary>OpenAI's error body <c>{"error":{"message","type","param","code"}}</c> with the error's status.</summary>
    public static Task WriteErrorAsync(HttpResponse response, SimulatedError error) =>
        WriteAsync(response, error.Status, json => OpenAiJson.WriteError(json, error));
}
