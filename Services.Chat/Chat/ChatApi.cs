using System.Text.Json;
using AiAssistant.Contracts.Tools;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.Providers;
using AiAssistant.Services.Chat.ToolLoop;
using AiAssistant.Services.Chat.Usage;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.Chat;

/// <summary><c>/ai/chat</c>: validate in the reference's order, pick this replica's provider client, stream the turn.</summary>
public static class ChatApi
{
    public static IEndpointRouteBuilder MapChatApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/ai/chat", Chat).WithName("Chat");
        app.MapGet("/ai/models", Models).WithName("Models");
        return app;
    }

    /// <summary>The models a user can pick: allowed models of providers with credentials, every model of compatible ones.</summary>
    private static async Task<IResult> Models(HttpContext context, ProviderConfigCache providers, CancellationToken ct)
    {
        context.RequireApp();
        var snapshot = await providers.GetAsync(ct);
        var models = snapshot.Providers.Values.Where(p => p.Client is not null).SelectMany(p => p.Config.Models.Select(m => new
        {
            provider = p.Config.Id,
            model = m.Id,
            name = m.Name,
            limit = new { context = m.Context, output = m.Output },
            cost = new { input = m.CostInput, output = m.CostOutput },
            attachment = m.Attachment,
            reasoning = m.Reasoning,
        }));
        return TypedResults.Json(new { data = models });
    }

    /// <summary>
    /// The provider and client a request names, checked in the reference's order: the allowed-models list first (403),
    /// then whether the provider has credentials (503). <c>/ai/chat</c> and <c>/ai/object</c> share it.
    /// </summary>
    internal static (ConfiguredProvider Provider, IChatClient Client) Resolve(ProviderSnapshot snapshot, string providerId, string model)
    {
        snapshot.Providers.TryGetValue(providerId, out var provider);
        if (provider is { IsBuiltIn: true } && provider.Config.Models.All(m => m.Id != model))
            throw DirectusException.Forbidden("Model not allowed for this provider");
        if (provider?.Client is not { } client)
            throw DirectusException.ServiceUnavailable(providerId, "No API key configured for LLM provider");
        return (provider, client);
    }

    /// <summary>The request's JSON body; text that is not JSON is a 400 saying where.</summary>
    internal static async Task<JsonDocument> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            throw DirectusException.InvalidPayload($"The body is not valid JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine})");
        }
    }

    private static async Task Chat(HttpContext context, ProviderConfigCache providers, ChatTurn turn, ToolExecutor tools, UsageLimiter limiter,
        UsageLedger ledger, TimeProvider time, ILogger<ChatTurn> logger, CancellationToken ct)
    {
        // App access, as in the reference; tools then run as exactly this user.
        var identity = context.RequireApp();
        var caller = new Caller { UserId = identity.UserId, RoleId = identity.RoleId ?? "", Admin = identity.Admin, App = identity.App };

        using var body = await ReadBodyAsync(context.Request, ct);
        var request = ChatRequest.Parse(body.RootElement);
        var conversation = UiMessages.ToConversation(request.Messages, request.Provider);
        if (conversation.DroppedFiles > 0)
            logger.LogWarning("{Count} file parts without a {Provider} file id were left out of the turn", conversation.DroppedFiles, request.Provider);

        var snapshot = await providers.GetAsync(ct);
        var (provider, client) = Resolve(snapshot, request.Provider, request.Model);
        // A request that is let through counts towards the user's requests per minute (429 past a limit).
        await limiter.AdmitAsync(context, identity.UserId, UsageLimiter.For(snapshot.UsageLimits, identity.RoleId));

        // The model sees the root tools (search, execute, schema) and the browser's tools, sorted by name so the
        // prompt's prefix stays cache-stable; the tools the request named are reached through search and execute.
        var declarations = new List<AITool>(await tools.DeclarationsAsync(caller, ct));
        foreach (var local in request.ClientTools)
            declarations.Add(AIFunctionFactory.CreateDeclaration(local.Name, local.Description, local.InputSchema));
        declarations.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var scope = new ToolScope { Names = { request.ServerTools } };
        foreach (var (tool, mode) in request.ToolApprovals) scope.Approvals[tool] = mode;

        var options = new ChatOptions { ModelId = request.Model, Tools = declarations };
        ProviderRequests.Shape(provider, request.Model, conversation.Messages, options,
            snapshot.SystemPrompt.Length > 0 ? snapshot.SystemPrompt : SystemPrompt.Default, ChatContext.Format(request.Context, time.GetUtcNow()));

        UiMessageStreamWriter.SetHeaders(context.Response);
        var stream = new UiMessageStreamWriter(context.Response.BodyWriter);
        var usage = new TurnUsage();
        var outcome = "error";
        try
        {
            outcome = await turn.RunAsync(client, options, conversation, caller, scope, request.ClientTools.Select(t => t.Name).ToHashSet(), stream, usage, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            outcome = "stopped";
            throw;
        }
        finally
        {
            // after [DONE]: the ledger's writer takes it from here, off the stream's path
            ledger.RecordTurn(time.GetUtcNow(), identity, "chat", provider, request.Model, usage, outcome);
        }
    }
}
