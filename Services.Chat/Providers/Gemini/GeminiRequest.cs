using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.Providers.Gemini;

/// <summary>
/// A <c>generateContent</c> body from chat messages: system messages and instructions as <c>systemInstruction</c>,
/// user and tool turns as <c>user</c> contents, the assistant's as <c>model</c> contents; tools as
/// <c>functionDeclarations</c> with their JSON Schema as <c>parametersJsonSchema</c>.
/// </summary>
public static class GeminiRequest
{
    public static JsonObject Build(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var system = new JsonArray();
        if (options?.Instructions is { Length: > 0 } instructions) system.Add(new JsonObject { ["text"] = instructions });
        var contents = new JsonArray();
        // Gemini answers a call by its function's name
        var names = new Dictionary<string, string>();
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.System)
            {
                foreach (var text in message.Contents.OfType<TextContent>()) system.Add(new JsonObject { ["text"] = text.Text });
                continue;
            }
            var parts = new JsonArray();
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent text when text.Text.Length > 0:
                        parts.Add(new JsonObject { ["text"] = text.Text });
                        break;
                    case HostedFileContent file:
                        // a file of Gemini's Files API, by the URI its upload answered
                        parts.Add(new JsonObject
                        {
                            ["fileData"] = new JsonObject { ["mimeType"] = file.MediaType ?? "application/octet-stream", ["fileUri"] = file.FileId },
                        });
                        break;
                    case FunctionCallContent call:
                        names[call.CallId] = call.Name;
                        var part = new JsonObject
                        {
                            ["functionCall"] = new JsonObject { ["name"] = call.Name, ["args"] = JsonNode.Parse(ToolLoop.ToolArguments.ToJson(call)) },
                        };
                        if (call.AdditionalProperties?.TryGetValue(GeminiChatClient.ThoughtSignature, out var signature) == true && signature is string s)
                            part["thoughtSignature"] = s;
                        parts.Add(part);
                        break;
                    case FunctionResultContent result:
                        parts.Add(new JsonObject
                        {
                            ["functionResponse"] = new JsonObject
                            {
                                ["name"] = names.GetValueOrDefault(result.CallId, result.CallId),
                                ["response"] = new JsonObject { ["content"] = Output(result.Result) },
                            },
                        });
                        break;
                }
            }
            if (parts.Count > 0) contents.Add(new JsonObject { ["role"] = message.Role == ChatRole.Assistant ? "model" : "user", ["parts"] = parts });
        }

        var body = new JsonObject { ["contents"] = contents };
        if (system.Count > 0) body["systemInstruction"] = new JsonObject { ["parts"] = system };
        var declarations = new JsonArray();
        foreach (var tool in options?.Tools ?? [])
            if (tool is AIFunctionDeclaration function)
                declarations.Add(new JsonObject
                {
                    ["name"] = function.Name,
                    ["description"] = function.Description,
                    ["parametersJsonSchema"] = JsonNode.Parse(function.JsonSchema.GetRawText()),
                });
        if (declarations.Count > 0) body["tools"] = new JsonArray(new JsonObject { ["functionDeclarations"] = declarations });
        var generation = new JsonObject();
        if (options?.MaxOutputTokens is { } max) generation["maxOutputTokens"] = max;
        if (options?.Temperature is { } temperature) generation["temperature"] = temperature;
        if (options?.Reasoning is not null) generation["thinkingConfig"] = new JsonObject { ["includeThoughts"] = true };
        // structured output (/ai/object): JSON only, shaped by the schema
        if (options?.ResponseFormat is ChatResponseFormatJson json)
        {
            generation["responseMimeType"] = "application/json";
            if (json.Schema is { } schema) generation["responseJsonSchema"] = JsonNode.Parse(schema.GetRawText());
        }
        if (generation.Count > 0) body["generationConfig"] = generation;
        return body;
    }

    /// <summary>A tool's output as JSON when it is JSON (our tools answer JSON text), else as a string.</summary>
    private static JsonNode? Output(object? result)
    {
        var text = result switch { string s => s, JsonElement e => e.GetRawText(), null => "null", _ => JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions) };
        try { return JsonNode.Parse(text); }
        catch (JsonException) { return JsonValue.Create(text); }
    }
}
