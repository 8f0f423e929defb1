package data

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ExtractTarGz unpacks the tar archive at path archive, gzip-compressed or
// plain (told apart by the gzip magic bytes), into destDir.
//
// Only folders and regular files are extracted; symbolic and hard links are
// refused (the official CIFAR-10 archive has none, and a link lets later
// members or the loaders reach outside destDir), as is any member whose
// cleaned path is absolute or climbs out with "..". PAX global headers,
// devices and FIFOs carry no data set content and are skipped.
//
// The archive may expand to at most MaxDecompressedBytes (or
// $SCORESDE_DATA_MAX_BYTES) in all, counting the decompressed tar stream and
// the declared sizes of the files it writes, and may hold at most
// MaxArchiveMembers members; beyond that extraction stops with a *LimitError.
//
// Members are first written to a fresh hidden folder inside destDir, and
// moved into place only once the whole archive has been read without error;
// on any error that folder is removed and destDir is left as it was.
func ExtractTarGz(archive, destDir string) error {
	limit, err := decompressedLimit()
	if err != nil {
		return err
	}
	f, _, err := openRegular(archive, "archive")
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.MkdirAll(destDir, 0o755); err != nil {
		return fmt.Errorf("data: %s: cannot create the folder: %w: choose a writable folder", destDir, err)
	}
	return extractArchive(f, archive, destDir, limit)
}

// extractArchive unpacks the tar stream r (gzip-compressed or plain; name
// names it in messages) into destDir, an existing folder, through a staging
// folder as described at ExtractTarGz.
func extractArchive(r io.Reader, name, destDir string, limit int64) error {
	stage, err := os.MkdirTemp(destDir, ".extract-*")
	if err != nil {
		return fmt.Errorf("data: %s: cannot create a temporary folder: %w: choose a writable folder", destDir, err)
	}
	defer os.RemoveAll(stage)
	if err := untar(r, name, stage, limit); err != nil {
		return err
	}
	if err := mergeInto(stage, destDir, true); err != nil {
		return fmt.Errorf("data: %s: cannot extract into %s: %w", name, destDir, err)
	}
	if err := mergeInto(stage, destDir, false); err != nil {
		return fmt.Errorf("data: %s: moving the extracted files into %s: %w", name, destDir, err)
	}
	return nil
}

// untar writes the members of the tar stream r into stage, a fresh empty
// folder, within limit bytes and maxArchiveMembers members.
func untar(r io.Reader, name, stage string, limit int64) error {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("data: %s: corrupt gzip header: %w: delete it and download it again", name, err)
		}
		defer zr.Close()
		src = zr
	}
	capped := &cappedReader{r: src, limit: limit, what: "the archive decompresses to more bytes"}
	tr := tar.NewReader(capped)
	var written int64 // declared sizes of the files written so far
	maxMembers := maxArchiveMembers()
	for members := 1; ; members++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var lim *LimitError
		if errors.As(err, &lim) {
			return fmt.Errorf("data: %s: %w", name, err)
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return fmt.Errorf("data: %s: corrupt or truncated archive: %w: delete it and download it again", name, err)
		}
		if members > maxMembers {
			return fmt.Errorf("data: %s: more than %d members (the CIFAR-10 archive has 9): not a data set archive; if it is genuine, raise data.MaxArchiveMembers", name, maxMembers)
		}
		refuse := func(why string) error {
			return fmt.Errorf("data: %s: refusing member %q: %s: the archive is not the official one; delete it and download it again", name, hdr.Name, why)
		}
		switch hdr.Typeflag {
		case tar.TypeXGlobalHeader, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			// Metadata, devices and FIFOs carry no data set content.
			continue
		case tar.TypeSymlink:
			return refuse(fmt.Sprintf("symbolic link (to %q): links are not extracted", hdr.Linkname))
		case tar.TypeLink:
			return refuse(fmt.Sprintf("hard link (to %q): links are not extracted", hdr.Linkname))
		case tar.TypeDir, tar.TypeReg:
		default:
			return refuse(fmt.Sprintf("type %q is neither a file nor a folder", hdr.Typeflag))
		}
		rel, err := memberPath(hdr.Name)
		if err != nil {
			return refuse(err.Error())
		}
		if rel == "." {
			if hdr.Typeflag == tar.TypeDir {
				continue
			}
			return refuse("a file cannot be the destination folder itself")
		}
		target := filepath.Join(stage, rel)
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("data: %s: member %q: %w", name, hdr.Name, err)
			}
			continue
		}
		if hdr.Size > limit-written {
			return fmt.Errorf("data: %s: member %q: %w", name, hdr.Name,
				&LimitError{What: fmt.Sprintf("its files declare %d bytes in all so far", written+hdr.Size), Limit: limit})
		}
		written += hdr.Size
		if err := writeMember(tr, target, hdr); err != nil {
			if errors.As(err, &lim) {
				return fmt.Errorf("data: %s: member %q: %w", name, hdr.Name, lim)
			}
			return fmt.Errorf("data: %s: member %q: %w", name, hdr.Name, err)
		}
	}
	// Read to the end of the stream (within the limit), so that a gzip
	// archive's checksum is verified.
	if _, err := io.Copy(io.Discard, capped); err != nil {
		var lim *LimitError
		if errors.As(err, &lim) {
			return fmt.Errorf("data: %s: %w", name, err)
		}
		return fmt.Errorf("data: %s: corrupt or truncated archive: %w: delete it and download it again", name, err)
	}
	return nil
}

// memberPath cleans a tar member name and checks that it stays below the
// extraction root.
func memberPath(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	if strings.ContainsRune(name, 0) {
		return "", errors.New("NUL byte in the name")
	}
	if strings.HasPrefix(name, "/") || filepath.IsAbs(name) || filepath.VolumeName(name) != "" {
		return "", errors.New("absolute path escapes the destination folder")
	}
	rel := filepath.Clean(filepath.FromSlash(name))
	if rel == "." {
		return rel, nil
	}
	if !filepath.IsLocal(rel) {
		return "", errors.New("path escapes the destination folder")
	}
	return rel, nil
}

// writeMember copies the member data r to target through a temporary file
// in the same folder, creating the folders on the way.
func writeMember(r io.Reader, target string, hdr *tar.Header) error {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".part-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	if n, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		os.Remove(name)
		var lim *LimitError
		if errors.As(err, &lim) {
			return err
		}
		return fmt.Errorf("truncated archive after %d of %d bytes: %w: delete it and download it again", n, hdr.Size, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return err
	}
	mode := os.FileMode(0o644)
	if hdr.Mode&0o111 != 0 {
		mode = 0o755
	}
	if err := os.Chmod(name, mode); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Rename(name, target); err != nil {
		os.Remove(name)
		return err
	}
	return nil
}

// mergeInto moves the content of folder src into folder dst: entries dst
// lacks are renamed into place, files replace files, and folders already in
// dst (real folders, not links) are merged recursively. With check set it
// only verifies that this can be done: that no folder of src meets a
// non-folder (or a link) in dst and no file meets a folder.
func mergeInto(src, dst string, check bool) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		st, err := os.Lstat(to)
		if errors.Is(err, os.ErrNotExist) {
			if !check {
				if err := os.Rename(from, to); err != nil {
					return err
				}
			}
			continue
		}
		if err != nil {
			return err
		}
		switch {
		case e.IsDir() && st.IsDir():
			if err := mergeInto(from, to, check); err != nil {
				return err
			}
		case e.IsDir():
			return fmt.Errorf("%s exists and is not a folder: move it away and run again", to)
		case st.IsDir():
			return fmt.Errorf("%s is a folder where the archive has a file: move it away and run again", to)
		case !check:
			if err := os.Rename(from, to); err != nil {
				return err
			}
		}
	}
	return nil
}
