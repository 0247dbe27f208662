using System.Text.Json;
using AiAssistant.Contracts.Tools;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.Providers;
using AiAssistant.Services.Chat.ToolLoop;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.Chat;

/// <summary><c>/ai/chat</c>: validate in the reference's order, pick this replica's provider client, stream the turn.</summary>
public static class ChatApi
{
    public static IEndpointRouteBuilder MapChatApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/ai/chat", Chat).WithName("Chat");
        return app;
    }

    private static async Task Chat(HttpContext context, BearerTokens tokens, ProviderConfigCache providers, ChatTurn turn, ToolExecutor tools, CancellationToken ct)
    {
        tokens.RequireAdmin(context);
        var caller = new Caller { UserId = "admin", Admin = true, App = true };

        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            throw DirectusException.InvalidPayload($"The body is not valid JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine})");
        }
        using var _ = body;
        var request = ChatRequest.Parse(body.RootElement);
        var messages = UiMessages.ToChatMessages(request.Messages);

        var snapshot = await providers.GetAsync(ct);
        if (!snapshot.Clients.TryGetValue(request.Provider, out var client))
            throw DirectusException.ServiceUnavailable(request.Provider, "No API key configured for LLM provider");

        var declarations = new List<AITool>(await tools.DeclarationsAsync(request.ServerTools, caller, ct));
        foreach (var local in request.ClientTools)
        {
            if (declarations.Any(d => d.Name == local.Name))
                throw DirectusException.InvalidPayload($"Tool by name \"{local.Name}\" already exists", "tools");
            declarations.Add(AIFunctionFactory.CreateDeclaration(local.Name, local.Description, local.InputSchema));
        }
        var options = new ChatOptions
        {
            ModelId = request.Model,
            Instructions = snapshot.SystemPrompt.Length > 0 ? snapshot.SystemPrompt : SystemPrompt.Default,
            Tools = declarations,
        };

        UiMessageStreamWriter.SetHeaders(context.Response);
        var stream = new UiMessageStreamWriter(context.Response.BodyWriter);
        await turn.RunAsync(client, options, messages, caller, request.ClientTools.Select(t => t.Name).ToHashSet(), stream, ct);
    }
}
