using AiAssistant.AppHost.Hosting;
using AiAssistant.AppHost.Orchestration;
using AiAssistant.AppHost.Resources;
using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.Launcher;

public sealed class LauncherUnitTests
{
    [Fact]
    public void Options_parse_every_flag()
    {
        var options = LauncherOptions.Parse(["--port", "0", "--chat-replicas", "3", "--data", "/x/data", "--artifacts", "/x/art",
            "--configuration", "Release", "--health-timeout", "9", "--server-logs"]);

        Assert.Equal(new LauncherOptions
        {
            Port = 0, ChatReplicas = 3, DataFolder = "/x/data", ArtifactsPath = "/x/art", Configuration = "release",
            HealthTimeout = TimeSpan.FromSeconds(9), ServerLogs = true,
        }, options);
        Assert.Equal(8080, LauncherOptions.Parse([]).Port);
    }

    [Theory]
    [InlineData("--chat-replicas", "0")]
    [InlineData("--port", "x")]
    [InlineData("--nope", "1")]
    public void Options_reject_bad_input(string flag, string value) =>
        Assert.Throws<ArgumentException>(() => LauncherOptions.Parse([flag, value]));

    [Theory]
    [InlineData("/tmp/art-host/bin/AppHost/debug/AppHost.dll", "debug", "/tmp/art-host")]
    [InlineData("/r/artifacts/bin/AiAssistant.Tests/release/AppHost.dll", "Release", "/r/artifacts")]
    [InlineData("/r/artifacts/bin/AppHost/release_linux-x64/AppHost.dll", "release", "/r/artifacts")]
    [InlineData("/r/AppHost/bin/Debug/net10.0/AppHost.dll", "debug", null)]
    public void Artifacts_folder_is_inferred_from_where_the_launcher_was_built(string assembly, string configuration, string? expected) =>
        Assert.Equal(expected, BuildLayout.ArtifactsOf(assembly, configuration));

    [Fact]
    public void Layout_points_at_the_services_of_the_same_configuration()
    {
        var layout = new BuildLayout("/repo", "/art", "release");
        Assert.Equal("/art/bin/Services.Chat/release/Services.Chat.dll", layout.AssemblyOf("Services.Chat", "Services.Chat"));
        Assert.True(File.Exists(Path.Combine(BuildLayout.Detect().RepoRoot, BuildLayout.SolutionFile)));
    }

    [Fact]
    public void A_missing_server_binary_names_the_package_to_install()
    {
        var redis = Assert.Throws<ServerNotInstalledException>(() => ServerBinaries.Find("redis-server", "redis-server", "/nonexistent/redis-server"));
        Assert.Contains("apt-get install redis-server", redis.Message);
        Assert.Contains(ServerBinaries.InstallAll, redis.Message);

        var postgres = Assert.Throws<ServerNotInstalledException>(() => ServerBinaries.PostgresBin("/nonexistent"));
        Assert.Contains("apt-get install postgresql", postgres.Message);
    }

    [Fact]
    public void Ports_are_chosen_once_and_kept()
    {
        var folder = TestFolders.Create("ports");
        try
        {
            var first = PortFile.LoadOrCreate(folder, new Dictionary<string, int> { ["a"] = 0, ["b"] = 0 });
            var again = PortFile.LoadOrCreate(folder, new Dictionary<string, int> { ["a"] = 0, ["b"] = 0 });
            Assert.Equal(first, again);
            Assert.NotEqual(first["a"], first["b"]);
            Assert.Equal(1234, PortFile.LoadOrCreate(folder, new Dictionary<string, int> { ["a"] = 1234 })["a"]);
        }
        finally { TestFolders.Delete(folder); }
    }

    [Fact]
    public void Secrets_are_generated_once_and_readable_only_by_the_owner()
    {
        if (OperatingSystem.IsWindows()) return; // file modes are a Unix notion
        var folder = TestFolders.Create("secrets");
        try
        {
            var first = StackSecrets.LoadOrCreate(folder);
            Assert.Equal(first, StackSecrets.LoadOrCreate(folder));
            Assert.Equal(32, Convert.FromBase64String(first.MasterKey).Length);
            Assert.Equal(64, first.InternalToken.Length);
            foreach (var file in Directory.GetFiles(Path.Combine(folder, "secrets")))
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
        finally { TestFolders.Delete(folder); }
    }

    [Fact]
    public async Task Services_get_aspire_shaped_configuration()
    {
        var folder = TestFolders.Create("stack-model");
        try
        {
            await using var servers = new ServerSet(Path.Combine(folder, "servers"));
            var stack = Stack.Create(new StackOptions
            {
                DataFolder = folder, UseServers = servers, ChatReplicas = 2, GatewayPort = 0,
                HostEnvironment = new Dictionary<string, string> { ["ADMIN_TOKEN"] = "adm", ["AI_ENABLED"] = "true", ["ADMIN_EMAIL"] = "a@b.c" },
            });
            var pg = $"Host=127.0.0.1;Port={servers.Postgres.Port};Username=postgres;Password=postgres;Database=";

            Assert.Equal(["settings", "tools", "chat-0", "chat-1", "gateway"], stack.Services.Select(s => s.Name));
            foreach (var s in stack.Services)
            {
                Assert.Equal($"127.0.0.1:{servers.Redis.Port}", s.Environment["ConnectionStrings__redis"]);
                Assert.Equal($"amqp://guest:guest@127.0.0.1:{servers.RabbitMq.Port}/", s.Environment["ConnectionStrings__rabbitmq"]);
                Assert.Equal(stack.Secrets.InternalToken, s.Environment["Internal__Token"]);
                Assert.Equal(s.ServiceName, s.Environment["OTEL_SERVICE_NAME"]);
                Assert.Equal("Production", s.Environment["DOTNET_ENVIRONMENT"]);
                Assert.Equal(s.HttpUrl, s.Environment["Kestrel__Endpoints__http__Url"]);
                Assert.Equal(s.Name != "gateway", s.Environment.ContainsKey("Kestrel__Endpoints__grpc__Url"));
            }
            var settings = stack.Settings.Environment;
            Assert.Equal(pg + "settings", settings["ConnectionStrings__settings"]);
            Assert.Equal(stack.Secrets.MasterKey, settings["Secrets__MasterKey"]);
            Assert.Equal("k1", settings["Secrets__MasterKeyId"]);
            Assert.Equal("adm", settings["ADMIN_TOKEN"]);
            Assert.Equal("a@b.c", settings["ADMIN_EMAIL"]);
            Assert.Equal("Http2", settings["Kestrel__Endpoints__grpc__Protocols"]);
            Assert.Equal(pg + "content", stack.Tools.Environment["ConnectionStrings__content"]);
            // Only Settings knows tokens; every service verifies JWTs with the same key and asks Settings about static tokens.
            Assert.False(stack.Tools.Environment.ContainsKey("ADMIN_TOKEN"));
            Assert.False(stack.Gateway.Environment.ContainsKey("ADMIN_TOKEN"));
            Assert.All(stack.Services, s => Assert.Equal(stack.Secrets.JwtKey, s.Environment["Auth__JwtKey"]));
            Assert.Equal(stack.Settings.GrpcUrl, stack.Gateway.Environment["services__settings__grpc__0"]);
            Assert.Equal(stack.Settings.GrpcUrl, stack.Tools.Environment["services__settings__grpc__0"]);
            Assert.Equal("true", settings["AI_ENABLED"]);
            var chat1 = stack.Service("chat-1").Environment;
            Assert.Equal(pg + "chat", chat1["ConnectionStrings__chat"]);
            Assert.Equal(stack.Settings.GrpcUrl, chat1["services__settings__grpc__0"]);
            Assert.Equal(stack.Tools.GrpcUrl, chat1["services__tools__grpc__0"]);
            Assert.Equal("chat-1", chat1["Chat__ReplicaId"]);
            var gateway = stack.Gateway.Environment;
            Assert.Equal(stack.Settings.HttpUrl, gateway["services__settings__http__0"]);
            Assert.Equal(stack.Tools.HttpUrl, gateway["services__tools__http__0"]);
            Assert.Equal(stack.ChatReplicas.Select(c => c.HttpUrl), [gateway["services__chat__http__0"], gateway["services__chat__http__1"]]);
            Assert.Equal("true", gateway["AI_ENABLED"]);
            Assert.Equal([stack.Settings, stack.Tools, .. stack.ChatReplicas], stack.Gateway.WaitFor);
            var urls = stack.Services.SelectMany(s => new[] { s.HttpUrl, s.GrpcUrl }).OfType<string>().ToList();
            Assert.Equal(urls.Count, urls.Distinct().Count());
        }
        finally { TestFolders.Delete(folder); }
    }
}
