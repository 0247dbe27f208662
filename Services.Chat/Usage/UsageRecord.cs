using AiAssistant.Contracts.Settings;
using AiAssistant.Services.Chat.ToolLoop;

namespace AiAssistant.Services.Chat.Usage;

/// <summary>One turn in the usage ledger: who, which model, the provider's own token figures, what it cost, when.</summary>
public sealed record UsageRecord(
    DateTimeOffset Timestamp,
    Guid User,
    Guid? Role,
    string Endpoint,
    string Provider,
    string Model,
    long InputTokens,
    long OutputTokens,
    long TotalTokens,
    long CacheReadTokens,
    long? CacheCreationTokens,
    decimal Cost,
    string Outcome)
{
    /// <summary>
    /// A turn's record. The cost is the catalog's price per million tokens (<see cref="ProviderModel.CostInput"/>,
    /// <see cref="ProviderModel.CostOutput"/>) times the tokens; cached input is priced as input (the catalog has no
    /// cache prices), and a model without a price (OpenAI-compatible ones) costs 0.
    /// </summary>
    /// <returns>null for a caller whose id is not a user's (every user id is a UUID).</returns>
    public static UsageRecord? Of(DateTimeOffset at, string userId, string? roleId, string endpoint, string provider, string model,
        ProviderModel? prices, TurnUsage usage, string outcome) =>
        !Guid.TryParse(userId, out var user) ? null : new(at, user, Guid.TryParse(roleId, out var role) ? role : null, endpoint, provider, model,
            usage.InputTokens, usage.OutputTokens, usage.TotalTokens, usage.CacheReadTokens, usage.CacheCreationTokens,
            PriceOf(prices, usage.InputTokens, usage.OutputTokens), outcome);

    public static decimal PriceOf(ProviderModel? prices, long inputTokens, long outputTokens) =>
        prices is null ? 0m : (inputTokens * Price(prices.CostInput) + outputTokens * Price(prices.CostOutput)) / 1_000_000m;

    private static decimal Price(double perMillion) =>
        double.IsFinite(perMillion) && perMillion > 0 ? (decimal)perMillion : 0m;
}
