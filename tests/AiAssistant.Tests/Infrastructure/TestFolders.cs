namespace AiAssistant.Tests.Infrastructure;

/// <summary>Throwaway folders under /tmp (world-traversable, so the postgres user can reach its data folder).</summary>
public static class TestFolders
{
    public static string Create(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), "aiassistant-tests", $"{purpose}-{Guid.NewGuid():N}"[..(purpose.Length + 13)]);
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Path.GetDirectoryName(path)!, (UnixFileMode)0b111_101_101); // 755: the postgres user passes
        return path;
    }

    public static void Delete(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
