package org.finlora.io;

import org.finlora.FinloraException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The huggingface_hub cache layout: {@code <root>/models--{org}--{name}/} (or {@code datasets--})
 * with {@code refs/<revision>} holding a commit hash, {@code snapshots/<commit>/<file>} links to
 * {@code blobs/<etag>}. Root: $HF_HUB_CACHE, else $HF_HOME/hub, else
 * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
 */
public final class HfCache {
    public enum RepoType {
        MODEL("models", ""), DATASET("datasets", "datasets/");

        /** Folder prefix in the cache ({@code models--org--name}). */
        public final String folderPrefix;
        /** Path prefix in Hub URLs ({@code /datasets/org/name/resolve/...}). */
        public final String urlPrefix;

        RepoType(String folderPrefix, String urlPrefix) {
            this.folderPrefix = folderPrefix;
            this.urlPrefix = urlPrefix;
        }
    }

    /**
     * huggingface_hub's validate_repo_id: an optional namespace and a name of 1 to 96 characters
     * among letters, digits, '_', '-' and '.', each starting and ending with a letter, digit or '_';
     * no "--" (the cache folder separator, so two ids never share a folder), no "..", no ".git" end.
     */
    private static final Pattern REPO_PART = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.\\-]{0,94}[A-Za-z0-9_])?");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    /** A blob name: the etag a Hub sends (git sha1, LFS sha256); nothing that can name another folder. */
    private static final Pattern ETAG = Pattern.compile("[A-Za-z0-9_\\-][A-Za-z0-9_.\\-]{0,127}");

    private final Path root;

    public HfCache(Path root) {
        this.root = root;
    }

    public static HfCache fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    public static HfCache fromEnvironment(Map<String, String> env) {
        String hubCache = env.get("HF_HUB_CACHE");
        if (hubCache != null && !hubCache.isBlank()) return new HfCache(Path.of(hubCache));
        String home = env.get("HF_HOME");
        if (home != null && !home.isBlank()) return new HfCache(Path.of(home, "hub"));
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return new HfCache(Path.of(xdg, "huggingface", "hub"));
        return new HfCache(Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub"));
    }

    public Path root() {
        return root;
    }

    /** True for {@code name} or {@code org/name} as huggingface_hub accepts them (see REPO_PART). */
    public static boolean isRepoId(String s) {
        if (s == null || s.contains("--") || s.contains("..") || s.endsWith(".git")) return false;
        int slash = s.indexOf('/');
        if (slash < 0) return REPO_PART.matcher(s).matches();
        return REPO_PART.matcher(s.substring(0, slash)).matches() && REPO_PART.matcher(s.substring(slash + 1)).matches();
    }

    public static boolean isCommitHash(String s) {
        return s != null && COMMIT.matcher(s).matches();
    }

    static void checkRepoId(String repo) {
        if (!isRepoId(repo)) {
            throw new FinloraException(SafetensorsFile.quote(String.valueOf(repo)) + " is not a valid HF repo id (expected org/name: letters, digits, "
                    + "'_', '-', '.', at most 96 per part, no '--' or '..')");
        }
    }

    /** Whether a blob name from a server is safe to use as a file name in blobs/. */
    static boolean isEtag(String s) {
        return s != null && ETAG.matcher(s).matches() && !s.contains("..");
    }

    static void checkCommit(String repo, String commit) {
        if (!isCommitHash(commit)) {
            throw new FinloraException(repo + ": commit " + SafetensorsFile.quote(String.valueOf(commit)) + " is not a 40-character hex commit hash");
        }
    }

    /**
     * A file name from a server or a file becomes a path only through here: a relative path of
     * non-empty parts, none of them "." or "..", without a leading '/', '\\', NUL, control
     * characters or a drive letter.
     */
    static void checkFileName(String repo, String file) {
        boolean bad = file == null || file.isEmpty() || file.length() > 1024 || file.startsWith("/") || file.contains("\\")
                || (file.length() >= 2 && file.charAt(1) == ':' && Character.isLetter(file.charAt(0)));
        for (int i = 0; !bad && i < file.length(); i++) bad = file.charAt(i) < 0x20 || file.charAt(i) == 0x7f;
        if (!bad) {
            for (String part : file.split("/", -1)) bad |= part.isEmpty() || part.equals(".") || part.equals("..");
        }
        if (bad) throw new FinloraException(repo + ": invalid file name " + SafetensorsFile.quote(String.valueOf(file)));
    }

    public Path repoDir(RepoType type, String repo) {
        checkRepoId(repo);
        return root.resolve(type.folderPrefix + "--" + repo.replace("/", "--"));
    }

    public Path blobPath(RepoType type, String repo, String etag) {
        if (!isEtag(etag)) throw new FinloraException(repo + ": blob name " + SafetensorsFile.quote(String.valueOf(etag)) + " is not a plain file name");
        return under(repoDir(type, repo).resolve("blobs").resolve(etag), repo);
    }

    public Path snapshotDir(RepoType type, String repo, String commit) {
        checkCommit(repo, commit);
        return repoDir(type, repo).resolve("snapshots").resolve(commit);
    }

    /** A file of a snapshot; its name is checked and the path stays inside the snapshot. */
    public Path snapshotFile(RepoType type, String repo, String commit, String file) {
        checkFileName(repo, file);
        Path snap = snapshotDir(type, repo, commit);
        Path p = snap.resolve(file).normalize();
        if (!p.startsWith(snap)) throw new FinloraException(repo + ": invalid file name " + SafetensorsFile.quote(file));
        return under(p, repo);
    }

    /**
     * {@code p} itself when its real location (symbolic links followed, as far as it exists) is
     * inside the cache root; a link planted to point elsewhere is refused.
     */
    Path under(Path p, String repo) {
        try {
            Path realRoot = realPrefix(root), real = realPrefix(p);
            if (!real.startsWith(realRoot)) {
                throw new FinloraException(repo + ": " + p + " resolves to " + real + ", outside the HF cache " + realRoot);
            }
            return p;
        } catch (IOException e) {
            throw new FinloraException(p + ": cannot resolve (" + e.getMessage() + ")");
        }
    }

    /** The real path of the longest existing prefix of {@code p} (links followed), with the rest appended. */
    private static Path realPrefix(Path p) throws IOException {
        Path existing = p.toAbsolutePath().normalize();
        Path rest = existing.getFileSystem().getPath("");
        while (existing.getParent() != null && !Files.exists(existing)) {
            rest = existing.getFileName().resolve(rest);
            existing = existing.getParent();
        }
        return existing.toRealPath().resolve(rest).normalize();
    }

    /** The commit a revision names: itself when it is a commit hash, else the content of refs/&lt;revision&gt;. */
    public Optional<String> resolveRevision(RepoType type, String repo, String revision) {
        if (isCommitHash(revision)) return Optional.of(revision);
        Path ref = repoDir(type, repo).resolve("refs").resolve(revision);
        if (!ref.normalize().startsWith(repoDir(type, repo).resolve("refs")) || !Files.isRegularFile(ref)) return Optional.empty();
        try {
            if (Files.size(ref) > 256) return Optional.empty();
            String commit = Files.readString(ref).trim();
            return isCommitHash(commit) ? Optional.of(commit) : Optional.empty();
        } catch (IOException | java.io.UncheckedIOException e) {
            return Optional.empty();
        }
    }

    /** The snapshot folder of a revision, if the cache has it. */
    public Optional<Path> snapshot(RepoType type, String repo, String revision) {
        return resolveRevision(type, repo, revision).map(c -> snapshotDir(type, repo, c)).filter(Files::isDirectory);
    }

    /** A cached file of a revision (a link whose blob is present), if any. */
    public Optional<Path> file(RepoType type, String repo, String revision, String file) {
        checkFileName(repo, file);
        return resolveRevision(type, repo, revision).map(c -> snapshotFile(type, repo, c, file)).filter(Files::isRegularFile);
    }

    /** Records that {@code revision} (a branch or tag) points at {@code commit}. */
    public void writeRef(RepoType type, String repo, String revision, String commit) throws IOException {
        checkCommit(repo, commit);
        if (revision.equals(commit)) return;
        if (revision.isEmpty() || revision.contains("\0") || revision.contains("\\")) {
            throw new FinloraException(repo + ": invalid revision " + SafetensorsFile.quote(revision));
        }
        Path refs = repoDir(type, repo).resolve("refs");
        Path ref = refs.resolve(revision).normalize();
        if (!ref.startsWith(refs)) throw new FinloraException(repo + ": invalid revision '" + revision + "'");
        Files.createDirectories(ref.getParent());
        Path tmp = AtomicFiles.tempBeside(ref);
        try {
            Files.writeString(tmp, commit);
            AtomicFiles.moveIntoPlace(tmp, ref);
        } finally {
            AtomicFiles.deleteQuietly(tmp);
        }
    }
}
