using AiAssistant.ServiceDefaults.Data;

namespace AiAssistant.Services.Tools.Content.Files;

public static class FilesExtensions
{
    /// <summary>Files and folders: their tables, the local storage driver under <c>Files:Root</c>, the guarded import client.</summary>
    public static IHostApplicationBuilder AddFiles(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<FileOptions>(builder.Configuration.GetSection(FileOptions.Section));
        builder.Services.AddSingleton<IDatabaseSchema, FileTables>();
        builder.Services.AddSingleton<IFileStorage, LocalFileStorage>();
        builder.Services.AddSingleton<FileStore>();
        builder.Services.AddSingleton<ImportClient>();
        return builder;
    }
}
