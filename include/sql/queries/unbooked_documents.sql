-- Documents of one kind that an earlier run validated but Twinfield does not hold: held back, refused by
-- Twinfield, never written (a crash), or deleted. Every run looks at them again, whatever its window, so a
-- fixed mapping or a document sent in the meantime is booked without waiting for Focus to change it. Documents
-- deleted in Focus are not looked at again.
SELECT DISTINCT v.focus_id
FROM validation_results v
WHERE v.kind = :kind
  AND NOT EXISTS (
      SELECT 1 FROM postings p
      WHERE p.kind = v.kind AND p.focus_id = v.focus_id AND p.status IN ('posted', 'final')
  )
  AND NOT EXISTS (SELECT 1 FROM focus_deletions d WHERE d.kind = v.kind AND d.focus_id = v.focus_id)
ORDER BY v.focus_id;
