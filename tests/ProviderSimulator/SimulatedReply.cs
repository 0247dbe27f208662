namespace AiAssistant.ProviderSimulator;

/// <summary>Latency of a reply: the wait before the first token and the wait between two tokens.</summary>
public sealed record Pacing(TimeSpan TimeToFirstToken, TimeSpan BetweenTokens)
{
    public static Pacing None { get; } = new(TimeSpan.Zero, TimeSpan.Zero);

    public static Pacing FromMilliseconds(double timeToFirstToken, double betweenTokens) =>
        new(TimeSpan.FromMilliseconds(timeToFirstToken), TimeSpan.FromMilliseconds(betweenTokens));
}

public sealed record SimulatedToolCall(string Name, string Arguments);

/// <summary>An OpenAI-style error: the HTTP status and the body <c>{"error":{"message","type","param","code"}}</c>.</summary>
public sealed record SimulatedError(int Status, string Message, string Type, string? Code);

/// <summary>
/// Token counts to report instead of the simulator's estimate. <paramref name="CachedTokens"/> are prompt tokens read
/// from the provider's cache (part of <paramref name="PromptTokens"/>), <paramref name="CacheCreationTokens"/> prompt
/// tokens written to it (Anthropic), <paramref name="ReasoningTokens"/> completion tokens spent thinking.
/// </summary>
public sealed record SimulatedUsage(int PromptTokens, int CompletionTokens, int CachedTokens = 0, int CacheCreationTokens = 0, int ReasoningTokens = 0);

public enum SimulatedReplyKind { Text, ToolCalls, Error, HangUp, StreamError }

/// <summary>One scripted answer of the simulated provider; build it with the factory methods.</summary>
public sealed record SimulatedReply
{
    public SimulatedReplyKind Kind { get; init; }

    /// <summary>The assistant's text: the whole reply (Text), a preamble before the calls (ToolCalls),
    /// or what is streamed before the connection drops (HangUp).</summary>
    public string Content { get; init; } = "";

    public IReadOnlyList<SimulatedToolCall> Calls { get; init; } = [];

    public SimulatedError? Failure { get; init; }

    /// <summary>HangUp: how many text chunks reach the client before the connection is aborted; 0 aborts before any response.</summary>
    public int HangUpAfterChunks { get; init; }

    /// <summary>Overrides the server's default pacing for this reply.</summary>
    public Pacing? Pacing { get; init; }

    /// <summary>Overrides the estimated usage.</summary>
    public SimulatedUsage? Usage { get; init; }

    /// <summary>Overrides "stop" / "tool_calls", e.g. "length" (each wire format names it its own way).</summary>
    public string? FinishReason { get; init; }

    /// <summary>What the model thinks before it answers, streamed as the format's reasoning (Chat Completions has none).</summary>
    public string Reasoning { get; init; } = "";

    /// <summary>Error: sent as the <c>retry-after</c> header (whole seconds).</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static SimulatedReply Text(string text) => new() { Kind = SimulatedReplyKind.Text, Content = text };

    public static SimulatedReply ToolCalls(params (string Name, string Arguments)[] calls) => new()
    {
        Kind = SimulatedReplyKind.ToolCalls,
        Calls = [.. calls.Select(call => new SimulatedToolCall(call.Name, call.Arguments))],
    };

    public static SimulatedReply Error(int status, string message, string? type = null, string? code = null) => new()
    {
        Kind = SimulatedReplyKind.Error,
        Failure = new SimulatedError(status, message, type ?? DefaultErrorType(status), code ?? DefaultErrorCode(status)),
    };

    /// <summary>Streams <paramref name="afterChunks"/> chunks of <paramref name="text"/> (the default text when null), then drops the connection.</summary>
    public static SimulatedReply HangUp(int afterChunks = 2, string? text = null) => new()
    {
        Kind = SimulatedReplyKind.HangUp,
        Content = text ?? SimulatorServer.FixedReplyText,
        HangUpAfterChunks = afterChunks,
    };

    /// <summary>
    /// Streams <paramref name="afterChunks"/> chunks of <paramref name="text"/>, then the format's own error event and
    /// the end of the response (Responses, Anthropic Messages, Gemini; Chat Completions streams it as text).
    /// </summary>
    public static SimulatedReply ErrorMidStream(int afterChunks, string message, string? text = null) => new()
    {
        Kind = SimulatedReplyKind.StreamError,
        Content = text ?? SimulatorServer.FixedReplyText,
        HangUpAfterChunks = afterChunks,
        Failure = new SimulatedError(500, message, DefaultErrorType(500), null),
    };

    public SimulatedReply WithPacing(Pacing pacing) => this with { Pacing = pacing };

    public SimulatedReply WithReasoning(string reasoning) => this with { Reasoning = reasoning };

    // The values OpenAI sends for these statuses, so clients' error mapping sees what it would in production.
    private static string DefaultErrorType(int status) => status switch
    {
        429 => "requests",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    private static string? DefaultErrorCode(int status) => status switch
    {
        401 => "invalid_api_key",
        404 => "model_not_found",
        429 => "rate_limit_exceeded",
        _ => null,
    };
}
