/**
 * Everything between files on disk and patches in memory: NIfTI-1/2 reading and NIfTI-1 writing
 * ({@link org.cloe4j.data.NiftiReader}, {@link org.cloe4j.data.NiftiWriter}, {@link org.cloe4j.data.Volume}), BraTS and
 * MSD cohorts ({@link org.cloe4j.data.Cohort}, {@link org.cloe4j.data.Split}), RFNet's preprocessing and augmentation
 * ({@link org.cloe4j.data.Preprocessor}, {@link org.cloe4j.data.Augmenter}, {@link org.cloe4j.data.CaseCache}),
 * synthetic tumour phantoms ({@link org.cloe4j.data.PhantomGenerator}), label maps and their post-processing
 * ({@link org.cloe4j.data.LabelMaps}) and case pictures ({@link org.cloe4j.data.CasePicture}).
 *
 * <p>Axis convention: voxel data stays in NIfTI file order (x fastest, then y, then z), so a 3D volume's float[] is
 * already D, H, W ordered with D = nz, H = ny, W = nx; images are stacked channel-first (C·D·H·W).
 * Every bad input is a {@link org.cloe4j.data.DataException} naming the file and the problem.
 */
package org.cloe4j.data;
