namespace AiAssistant.AppHost.Resources;

/// <summary>Where Debian's packages put the server binaries; a missing one fails with the package to install.</summary>
public static class ServerBinaries
{
    public const string InstallAll = "apt-get install postgresql redis-server rabbitmq-server";

    /// <summary>The newest {root}/N/bin holding postgres and initdb (PG_BIN overrides).</summary>
    public static string PostgresBin(string root = "/usr/lib/postgresql")
    {
        var candidates = Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } bin
            ? [bin]
            : Directory.Exists(root)
                ? Directory.GetDirectories(root)
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                    .Select(d => Path.Combine(d, "bin")).ToArray()
                : [];
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "postgres")) && File.Exists(Path.Combine(d, "initdb")))
            ?? throw Missing("PostgreSQL (postgres, initdb)", $"{root}/<version>/bin", "postgresql");
    }

    public static string RedisServer() => Find("redis-server", "redis-server", "/usr/bin/redis-server");

    /// <summary>The real script, not /usr/sbin's wrapper (which switches to the rabbitmq user and /var/lib).</summary>
    public static string RabbitMqServer() => Find("rabbitmq-server", "rabbitmq-server", "/usr/lib/rabbitmq/bin/rabbitmq-server");

    public static string RabbitMqCtl() => Find("rabbitmqctl", "rabbitmq-server", "/usr/lib/rabbitmq/bin/rabbitmqctl");

    public static string Epmd() => Find("epmd", "rabbitmq-server (erlang-base)", "/usr/bin/epmd", "/usr/lib/erlang/bin/epmd");

    /// <summary>The first of <paramref name="paths"/> that exists, or the install hint for <paramref name="package"/>.</summary>
    public static string Find(string what, string package, params string[] paths) =>
        paths.FirstOrDefault(File.Exists) ?? throw Missing(what, string.Join(", ", paths), package);

    private static ServerNotInstalledException Missing(string what, string where, string package) => new(
        $"{what} is not installed (looked in {where}). Install the Debian package {package}: " +
        $"apt-get install {package.Split(' ')[0]} — the stack needs all three: {InstallAll}");
}
