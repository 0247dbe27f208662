using System.Text;
using System.Text.Json;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.Providers;
using AiAssistant.Services.Chat.ToolLoop;
using AiAssistant.Services.Chat.Usage;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.Chat;

/// <summary>
/// <c>POST /ai/object</c>: structured output, the reference's <c>streamObject(...).pipeTextStreamToResponse</c>. The same
/// access, allow-list, credential and usage-limit checks as <c>/ai/chat</c>; the closed schema goes to the provider as
/// its own structured-output request (OpenAI <c>text.format</c> json_schema, Anthropic <c>output_config.format</c>, Gemini
/// <c>responseJsonSchema</c>, compatible providers <c>response_format</c>), and the model's JSON streams back as it
/// comes, <c>text/plain</c>. A provider that fails before its first token is a 502 in the envelope; one that fails
/// later ends the text where it is (as the reference's stream does). Every turn goes to the usage ledger.
/// </summary>
public static class ObjectApi
{
    public static IEndpointRouteBuilder MapObjectApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/ai/object", Generate).WithName("Object");
        return app;
    }

    private static async Task Generate(HttpContext context, ProviderConfigCache providers, UsageLimiter limiter, UsageLedger ledger,
        TimeProvider time, ILogger<ObjectRequest> logger, CancellationToken ct)
    {
        var identity = context.RequireApp();
        using var body = await ChatApi.ReadBodyAsync(context.Request, ct);
        var request = ObjectRequest.Parse(body.RootElement);
        var snapshot = await providers.GetAsync(ct);
        var (provider, client) = ChatApi.Resolve(snapshot, request.Provider, request.Model);
        await limiter.AdmitAsync(context, identity.UserId, UsageLimiter.For(snapshot.UsageLimits, identity.RoleId));

        var options = new ChatOptions
        {
            ModelId = request.Model,
            MaxOutputTokens = request.MaxOutputTokens,
            ResponseFormat = ChatResponseFormat.ForJsonSchema(request.OutputSchema, "object"),
        };
        ProviderRequests.ShapeObject(provider, request.Model, options);

        var usage = new TurnUsage();
        var outcome = "error";
        try
        {
            await using var updates = client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, request.Prompt)], options, ct).GetAsyncEnumerator(ct);
            bool started = false, brokeOff = false;
            while (true)
            {
                bool more;
                try
                {
                    more = await updates.MoveNextAsync();
                }
                catch (ProviderException e) when (!started)
                {
                    throw new DirectusException(StatusCodes.Status502BadGateway, ErrorCodes.ServiceUnavailable, e.Message,
                        new Dictionary<string, object?> { ["service"] = request.Provider });
                }
                catch (ProviderException e)
                {
                    logger.LogWarning("The object stream of {Provider} broke off after it started: {Message}", request.Provider, e.Message);
                    brokeOff = true;
                    break;
                }
                if (!started)
                {
                    // the answer starts once the provider's does, so a failure before it can still be an envelope
                    started = true;
                    context.Response.ContentType = "text/plain; charset=utf-8";
                    context.Response.Headers.CacheControl = "no-cache";
                    await context.Response.StartAsync(ct);
                }
                if (!more) break;
                foreach (var content in updates.Current.Contents)
                {
                    if (content is TextContent { Text.Length: > 0 } text)
                        await context.Response.BodyWriter.WriteAsync(Encoding.UTF8.GetBytes(text.Text), ct);
                    else if (content is UsageContent u) usage.Add(u.Details);
                }
                await context.Response.BodyWriter.FlushAsync(ct);
            }
            outcome = brokeOff ? "error" : "ok";
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            outcome = "stopped";
            throw;
        }
        finally
        {
            ledger.RecordTurn(time.GetUtcNow(), identity, "object", provider, request.Model, usage, outcome);
        }
    }
}
