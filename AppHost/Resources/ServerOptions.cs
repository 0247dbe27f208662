namespace AiAssistant.AppHost.Resources;

public sealed record ServerOptions
{
    /// <summary>Start and health wait together; RabbitMQ alone takes about 8 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>False for throwaway data (tests): PostgreSQL runs without fsync.</summary>
    public bool Durable { get; init; } = true;

    /// <summary>Receives (resource name, line) for every line the server logs while running.</summary>
    public Action<string, string>? LogSink { get; init; }
}
